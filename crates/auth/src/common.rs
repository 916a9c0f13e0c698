//! Refusing guessable passwords (NIST SP 800-63B §5.1.1.2: "values known to be commonly used,
//! expected, or compromised"). Breach corpora cannot be shipped here, so the check works on
//! what makes breached passwords guessable: a curated list of the base words and keyboard walks
//! that dominate them, seen through the usual disguises. A candidate is normalised (lower case,
//! look-alike digits and symbols read as letters, separators dropped, leading and trailing
//! digits and symbols cut) and refused when what is left is empty or short, one repeated
//! character, a run of the alphabet or the keyboard, or at most two list words (each possibly
//! repeated): `Password2024!`, `P@ssw0rd1234`, `qwertyuiop12`, `iloveyou iloveyou`,
//! `Liverpool1892`, `letmein-please`.

/// Base words of common and breached passwords, and words an attacker tries first on this
/// platform. Lower case, letters only.
const WORDS: &[&str] = &[
    "password",
    "passwort",
    "passe",
    "pass",
    "secret",
    "letmein",
    "welcome",
    "hello",
    "login",
    "admin",
    "administrator",
    "root",
    "user",
    "guest",
    "test",
    "default",
    "changeme",
    "access",
    "master",
    "qwerty",
    "azerty",
    "qwertz",
    "iloveyou",
    "love",
    "lovely",
    "loveme",
    "baby",
    "angel",
    "princess",
    "sunshine",
    "flower",
    "monkey",
    "dragon",
    "shadow",
    "superman",
    "batman",
    "spiderman",
    "pokemon",
    "naruto",
    "starwars",
    "trustno",
    "whatever",
    "freedom",
    "forever",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "hockey",
    "rugby",
    "cricket",
    "tennis",
    "golf",
    "chelsea",
    "liverpool",
    "arsenal",
    "manchester",
    "united",
    "barcelona",
    "madrid",
    "juventus",
    "yankees",
    "cowboys",
    "eagles",
    "lakers",
    "michael",
    "jennifer",
    "jessica",
    "ashley",
    "daniel",
    "thomas",
    "jordan",
    "hunter",
    "charlie",
    "buster",
    "tigger",
    "ginger",
    "pepper",
    "maggie",
    "bailey",
    "killer",
    "matrix",
    "mustang",
    "harley",
    "ferrari",
    "porsche",
    "mercedes",
    "computer",
    "internet",
    "samsung",
    "google",
    "apple",
    "microsoft",
    "windows",
    "summer",
    "winter",
    "spring",
    "autumn",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "friday",
    "sunday",
    "money",
    "secure",
    "security",
    "please",
    "home",
    "family",
    "friend",
    "friends",
    "jesus",
    "christ",
    "god",
    "heaven",
    "music",
    "purple",
    "orange",
    "yellow",
    "silver",
    "golden",
    "diamond",
    "cookie",
    "chocolate",
    "cheese",
    "coffee",
    "banana",
    "army",
    "navy",
    "marine",
    "marines",
    "airforce",
    "soldier",
    "sergeant",
    "captain",
    "major",
    "colonel",
    "general",
    "platoon",
    "battalion",
    "regiment",
    "infantry",
    "ranger",
    "rangers",
    "hospital",
    "clinic",
    "doctor",
    "nurse",
    "health",
    "healthy",
    "patient",
    "medical",
    "physio",
    "coach",
    "athlete",
    "player",
    "team",
    "training",
    "fitness",
    "strong",
    "jump",
    "movement",
    "mhp",
    "forceplate",
    "force",
    "plate",
    "company",
    "office",
    "work",
    "change",
    "new",
    "my",
    "the",
    "one",
    "abc",
    "xyz",
    "zaq",
    "qaz",
    "wsx",
];

/// Keyboard rows and the alphabet: runs along them are refused.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "azertyuiop",
    "qwertzuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn",
    "zaq1xsw2cde3vfr4",
    "1q2w3e4r5t6y7u8i9o0p",
    "01234567890",
    "09876543210",
];

fn normalise(password: &str) -> String {
    let mapped: String = password
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '0' => Some('o'),
            '1' | '!' | '|' => Some('i'),
            '3' => Some('e'),
            '4' | '@' => Some('a'),
            '5' | '$' => Some('s'),
            '7' => Some('t'),
            '8' => Some('b'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect();
    mapped
}

/// Cuts leading and trailing digits and symbols (`2024!`, `123`): checked on the raw text, so
/// that a year is a suffix rather than letters in disguise.
fn core(password: &str) -> &str {
    password.trim_matches(|c: char| !c.is_alphabetic())
}

/// Whether `text` is made of at most two list words, each possibly repeated.
fn list_words(text: &str) -> bool {
    fn is_repeat_of_word(part: &str) -> bool {
        WORDS.iter().any(|w| {
            !part.is_empty()
                && part.len().is_multiple_of(w.len())
                && part.as_bytes().chunks(w.len()).all(|c| c == w.as_bytes())
        })
    }
    if is_repeat_of_word(text) {
        return true;
    }
    (1..text.len()).any(|i| {
        text.is_char_boundary(i) && is_repeat_of_word(&text[..i]) && is_repeat_of_word(&text[i..])
    })
}

fn is_run(text: &str) -> bool {
    text.len() >= 4
        && RUNS
            .iter()
            .any(|run| run.contains(text) || run.chars().rev().collect::<String>().contains(text))
}

/// Whether a password is common or guessable in the ways described above.
pub fn is_common(password: &str) -> bool {
    let whole = normalise(password);
    let core = normalise(core(password));
    // Keyboard runs mix digits and letters (`1q2w3e4r`): also read the text as typed.
    let typed: String = password
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    if is_run(&typed) {
        return true;
    }
    for candidate in [whole.as_str(), core.as_str()] {
        if candidate.chars().count() < 4 {
            return true;
        }
        let mut chars = candidate.chars();
        if let Some(first) = chars.next()
            && chars.all(|c| c == first)
        {
            return true;
        }
        if is_run(candidate) || list_words(candidate) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_in_their_usual_disguises_are_refused() {
        for pw in [
            "password1234",
            "Password2024!",
            "P@ssw0rd1234",
            "qwertyuiop12",
            "1q2w3e4r5t6y",
            "iloveyou iloveyou",
            "Liverpool1892",
            "letmein-please",
            "123456789012",
            "!!!!!!!!!!!!",
            "aaaaaaaaaaaa",
            "abcdefghijkl",
            "Welcome12345",
            "Summer2026!!",
            "Hospital2026",
            "Changeme1234",
            "zxcvbnm12345",
            "Football#2024",
        ] {
            assert!(is_common(pw), "{pw} should be refused");
        }
    }

    #[test]
    fn passphrases_and_random_passwords_pass() {
        for pw in [
            "correct horse battery staple",
            "Tr4vel-Mug-Orbit-9",
            "vK3#pX9!qL2m",
            "my cat eats paper clips",
            "Jumping off the plate at dawn",
            "éàüöçñ漢字かなカナ",
        ] {
            assert!(!is_common(pw), "{pw} should pass");
        }
    }
}
