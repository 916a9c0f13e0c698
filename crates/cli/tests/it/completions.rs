//! Shell completions: the script `mhp completions bash` prints completes commands and option
//! values in a real bash; the zsh and fish scripts are for their shells (not installed here, so
//! only their form is checked).

use std::process::Command;

use crate::{MHP, mhp, stderr, stdout};

/// What bash offers after `words` (the last one being completed), with the script loaded.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.len() - 1;
    let previous = if current > 0 { words[current - 1] } else { "" };
    let script = format!(
        "source <('{MHP}' completions bash) || exit 9\n\
         COMP_WORDS=({words})\nCOMP_CWORD={current}\n\
         _mhp mhp '{cur}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cur = words[current],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_and_option_values() {
    assert_eq!(bash_completes(&["mhp", "ser"]), ["serve"]);
    let commands = bash_completes(&["mhp", ""]);
    for c in [
        "analyze",
        "backup",
        "compliance",
        "completions",
        "org",
        "serve",
    ] {
        assert!(commands.iter().any(|w| w == c), "{c} in {commands:?}");
    }
    assert_eq!(
        bash_completes(&["mhp", "compliance", "check", "--format", ""]),
        ["json", "html", "oscal", "asff"]
    );
    assert_eq!(bash_completes(&["mhp", "completions", "z"]), ["zsh"]);
}

#[test]
fn zsh_and_fish_scripts_and_an_unknown_shell() {
    let zsh = mhp(&["completions", "zsh"], &[], None);
    assert_eq!(zsh.status.code(), Some(0), "{}", stderr(&zsh));
    assert!(stdout(&zsh).starts_with("#compdef mhp"), "{}", stdout(&zsh));
    let fish = mhp(&["completions", "fish"], &[], None);
    assert!(stdout(&fish).contains("complete -c mhp") && stdout(&fish).contains("serve"));
    let unknown = mhp(&["completions", "tcsh"], &[], None);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("bash"), "{}", stderr(&unknown));
}
