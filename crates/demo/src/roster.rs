//! Teams and subjects: who is in the demo organisation and their baselines.

use mhp_domain::Sex;

use crate::random::Rng;
use crate::{DemoSubject, DemoTeam};

/// The sports the demo knows, with what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sport {
    Rugby,
    Military,
    Football,
}

/// A team template: name, sport, and whether its members are all women.
struct TeamTemplate {
    name: &'static str,
    sport: Sport,
    women_only: bool,
}

const TEAM_TEMPLATES: &[TeamTemplate] = &[
    TeamTemplate {
        name: "Senior Rugby",
        sport: Sport::Rugby,
        women_only: false,
    },
    TeamTemplate {
        name: "Infantry Platoon 2",
        sport: Sport::Military,
        women_only: false,
    },
    TeamTemplate {
        name: "Women's Football",
        sport: Sport::Football,
        women_only: true,
    },
    TeamTemplate {
        name: "Rugby Academy U20",
        sport: Sport::Rugby,
        women_only: false,
    },
    TeamTemplate {
        name: "Infantry Platoon 3",
        sport: Sport::Military,
        women_only: false,
    },
    TeamTemplate {
        name: "Women's Football Reserves",
        sport: Sport::Football,
        women_only: true,
    },
];

/// Share of women in a mixed military team.
const MILITARY_FEMALE_SHARE: f64 = 0.15;

impl Sport {
    /// The stored sport code.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Sport::Rugby => "rugby",
            Sport::Military => "military",
            Sport::Football => "football",
        }
    }

    /// Minutes after midnight (UTC) at which the team's Monday testing starts.
    pub(crate) const fn testing_minute(self) -> i64 {
        match self {
            Sport::Rugby => 9 * 60,
            Sport::Military => 6 * 60 + 30,
            Sport::Football => 17 * 60 + 30,
        }
    }

    /// Age range at the start of the season, years.
    const fn age_range(self) -> (f64, f64) {
        match self {
            Sport::Rugby => (19.0, 33.0),
            Sport::Military => (18.0, 31.0),
            Sport::Football => (17.0, 32.0),
        }
    }

    /// Baseline jump height (mean, SD), m, by sex.
    const fn jump_height(self, sex: Sex) -> (f64, f64) {
        match (self, sex) {
            (Sport::Rugby, Sex::Female) => (0.30, 0.04),
            (Sport::Rugby, _) => (0.41, 0.05),
            (Sport::Military, Sex::Female) => (0.27, 0.04),
            (Sport::Military, _) => (0.36, 0.05),
            (Sport::Football, Sex::Female) => (0.31, 0.04),
            (Sport::Football, _) => (0.40, 0.05),
        }
    }

    /// Body mass (mean, SD), kg, by sex.
    const fn body_mass(self, sex: Sex) -> (f64, f64) {
        match (self, sex) {
            (Sport::Rugby, Sex::Female) => (72.0, 8.0),
            (Sport::Rugby, _) => (96.0, 9.0),
            (Sport::Military, Sex::Female) => (64.0, 7.0),
            (Sport::Military, _) => (79.0, 9.0),
            (Sport::Football, Sex::Female) => (62.0, 6.0),
            (Sport::Football, _) => (75.0, 7.0),
        }
    }
}

/// The team at position `index` (templates repeat with a number after the first round).
pub(crate) fn team(index: usize) -> DemoTeam {
    let (template, round) = template(index);
    let name = if round == 0 {
        template.name.to_owned()
    } else {
        format!("{} ({})", template.name, round + 1)
    };
    DemoTeam {
        name,
        sport: template.sport.code().to_owned(),
    }
}

/// The sport of the team at position `index`.
pub(crate) fn sport(index: usize) -> Sport {
    template(index).0.sport
}

fn template(index: usize) -> (&'static TeamTemplate, usize) {
    let n = TEAM_TEMPLATES.len();
    let t = &TEAM_TEMPLATES[index % n];
    (t, index / n)
}

/// Builds subject `index` of team `team`; `taken` holds the names used so far.
pub(crate) fn subject(
    rng: &mut Rng,
    team: usize,
    index: usize,
    start_day: i64,
    taken: &mut std::collections::BTreeSet<String>,
) -> DemoSubject {
    let (t, _) = template(team);
    let sex = if t.women_only || (t.sport == Sport::Military && rng.chance(MILITARY_FEMALE_SHARE)) {
        Sex::Female
    } else {
        Sex::Male
    };
    let name = unique_name(rng, sex, taken);
    let (lo, hi) = t.sport.age_range();
    let age_days = rng.uniform(lo, hi) * 365.25;
    let (h_mean, h_sd) = t.sport.jump_height(sex);
    let (m_mean, m_sd) = t.sport.body_mass(sex);
    let height = (h_mean + h_sd * rng.normal()).clamp(0.22, 0.55);
    let mass = (m_mean + m_sd * rng.normal()).clamp(55.0, 110.0);
    let asym = (crate::model::BASELINE_ASYMMETRY_SD_PCT * rng.normal()).clamp(-20.0, 20.0);
    DemoSubject {
        team,
        name,
        external_id: format!("DEMO-{:06}", index + 1),
        sex,
        birth_day: start_day - age_days.round() as i64,
        sport: t.sport.code().to_owned(),
        body_mass_kg: round_to(mass, 1),
        baseline_jump_height_m: round_to(height, 3),
        baseline_asymmetry_pct: round_to(asym, 2),
    }
}

/// `x` rounded to `decimals` places.
pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

fn unique_name(rng: &mut Rng, sex: Sex, taken: &mut std::collections::BTreeSet<String>) -> String {
    let firsts = if sex == Sex::Female {
        FEMALE_FIRST_NAMES
    } else {
        MALE_FIRST_NAMES
    };
    let mut candidate = String::new();
    for attempt in 0..50 {
        let first = rng.pick(firsts).copied().unwrap_or("Alex");
        let last = rng.pick(SURNAMES).copied().unwrap_or("Demo");
        candidate = if attempt < 40 {
            format!("{first} {last}")
        } else {
            let initial = char::from(b'A' + rng.below(26) as u8);
            format!("{first} {initial}. {last}")
        };
        if !taken.contains(&candidate) {
            break;
        }
    }
    // After 50 collisions (a very large team) a numeric suffix keeps names unique.
    let mut name = candidate.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{candidate} {n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

// Random combinations of common given names and surnames from many countries; any
// resemblance to a real person is coincidence. The external ids (`DEMO-…`) mark them as demo.
const FEMALE_FIRST_NAMES: &[&str] = &[
    "Aisha", "Amara", "Ana", "Astrid", "Beatriz", "Chloe", "Dana", "Eleni", "Elif", "Emma",
    "Freya", "Grace", "Hana", "Ingrid", "Isla", "Jade", "Keira", "Laila", "Lena", "Lucia", "Maeve",
    "Maria", "Mei", "Mia", "Nadia", "Naomi", "Niamh", "Nora", "Olivia", "Priya", "Rosa", "Ruby",
    "Saoirse", "Sara", "Sofia", "Tala", "Tamsin", "Yara", "Zara", "Zoe",
];

const MALE_FIRST_NAMES: &[&str] = &[
    "Aaron", "Adebayo", "Aidan", "Andrei", "Ben", "Caleb", "Callum", "Daniel", "Dylan", "Elias",
    "Ethan", "Finn", "Gabriel", "Hamish", "Hugo", "Ibrahim", "Isaac", "Jack", "Jonah", "Kai",
    "Kieran", "Liam", "Luca", "Malik", "Mateo", "Nikolai", "Noah", "Omar", "Owen", "Rafael",
    "Rhys", "Ronan", "Samuel", "Sione", "Tane", "Theo", "Tomas", "Viktor", "Wiremu", "Yusuf",
];

const SURNAMES: &[&str] = &[
    "Abernethy",
    "Adeyemi",
    "Alvarez",
    "Bergstrom",
    "Blackwood",
    "Brennan",
    "Castellano",
    "Chen",
    "Costa",
    "Dalgleish",
    "Delacroix",
    "Dimitriou",
    "Eriksen",
    "Fairweather",
    "Falaniko",
    "Fernsby",
    "Gallagher",
    "Haldane",
    "Hartigan",
    "Ionescu",
    "Jankowski",
    "Kaminski",
    "Karimi",
    "Kowalczyk",
    "Lachlan",
    "Larkspur",
    "Lindqvist",
    "MacAllister",
    "Mahuika",
    "Marchetti",
    "Moreau",
    "Nakamura",
    "Nwosu",
    "Okafor",
    "Oyelaran",
    "Pemberton",
    "Petrov",
    "Quennell",
    "Radcliffe",
    "Rasmussen",
    "Rautenbach",
    "Sandoval",
    "Santangelo",
    "Sato",
    "Silversmith",
    "Strachan",
    "Szabo",
    "Tamatea",
    "Thornbury",
    "Fenwick-Moss",
    "Underhill",
    "Valdivia",
    "Vasquez",
    "Wainwright",
    "Whitlock",
    "Yilmaz",
    "Zielinski",
];
