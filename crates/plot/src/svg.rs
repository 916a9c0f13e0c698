//! Writing SVG text: escaping, numbers with at most one decimal, class names.

use std::fmt::Write as _;

/// Appends `text` escaped for XML text and attribute values (`&`, `<`, `>`, `"`, `'`), and
/// without the control characters XML 1.0 cannot hold, so user-supplied titles and labels
/// can neither break out of the markup nor make it ill-formed.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// `text` escaped (see [`push_escaped`]).
#[cfg(test)]
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends a coordinate rounded to one decimal, without a trailing ".0" and never "-0".
pub(crate) fn push_num(out: &mut String, value: f64) {
    let tenths = (value * 10.0).round();
    // Coordinates are clamped by the caller; this only keeps a stray non-finite value from
    // printing "NaN" into the document.
    let tenths = if tenths.is_finite() { tenths } else { 0.0 };
    let tenths = tenths as i64;
    let (whole, frac) = (tenths / 10, (tenths % 10).abs());
    if tenths < 0 && whole == 0 {
        out.push('-');
    }
    let _ = write!(out, "{whole}");
    if frac != 0 {
        let _ = write!(out, ".{frac}");
    }
}

/// A coordinate as [`push_num`] writes it.
pub(crate) fn num(value: f64) -> String {
    let mut out = String::new();
    push_num(&mut out, value);
    out
}

/// A class list made safe: letters, digits, `-` and `_` kept, runs of anything else become
/// one space (so "series-1 dashed" stays two classes); `fallback` when nothing is left.
pub(crate) fn class_list(raw: &str, fallback: &str) -> String {
    let words: Vec<String> = raw
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        return fallback.to_owned();
    }
    words.join(" ")
}

/// One class name or id token: letters, digits, `-` and `_`, anything else becomes `-`.
pub(crate) fn token(raw: &str, fallback: &str) -> String {
    let token: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if token.is_empty() {
        return fallback.to_owned();
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("<script>alert('x & \"y\"')</script>\u{0}\u{7}"),
            "&lt;script&gt;alert(&apos;x &amp; &quot;y&quot;&apos;)&lt;/script&gt;"
        );
        assert_eq!(escape("Kraft – Zeit (N)"), "Kraft – Zeit (N)");
    }

    #[test]
    fn numbers_have_at_most_one_decimal() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (-0.04, "0"),
            (-0.06, "-0.1"),
            (-0.5, "-0.5"),
            (12.34, "12.3"),
            (12.35, "12.4"),
            (-12.96, "-13"),
            (100.0, "100"),
            (f64::NAN, "0"),
        ];
        for (value, text) in cases {
            assert_eq!(num(value), text, "{value}");
        }
    }

    #[test]
    fn class_names_and_tokens() {
        assert_eq!(class_list("series-1 dashed", "x"), "series-1 dashed");
        assert_eq!(class_list("\"><script>", "x"), "script");
        assert_eq!(class_list("  ", "series-1"), "series-1");
        assert_eq!(token("cmj 1/a", "chart"), "cmj-1-a");
        assert_eq!(token("", "chart"), "chart");
    }
}
