//! Decimal number parsing for CSV fields, fast for the plain decimals
//! force plates write.
//!
//! The fast path reads `[-+]digits[.digits]` into an integer mantissa and a
//! power of ten and divides once. When the mantissa is below 2^53 and the
//! power at most 10^22, both are exact doubles and IEEE division rounds
//! correctly (Clinger 1990, "How to read floating point numbers accurately"),
//! so the result is bit-identical to `str::parse::<f64>`. Anything else
//! (exponents, long mantissas, `NaN`, `inf`) falls back to the standard
//! library.

/// Exact powers of ten representable as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest mantissa converted exactly to f64.
const MAX_EXACT_MANTISSA: u64 = 1 << 53;

/// Longest field the fallback path copies (longer fields are not numbers a
/// plate writes).
const MAX_FALLBACK_LEN: usize = 64;

/// Parses one field. `decimal_comma` lets `,` stand for the decimal point
/// (only when the delimiter is not a comma). Surrounding spaces and double
/// quotes are ignored. `None` when the field is not a number.
pub(crate) fn parse_field(field: &[u8], decimal_comma: bool) -> Option<f64> {
    let field = trim_field(field);
    if field.is_empty() {
        return None;
    }
    if let Some(value) = parse_plain_decimal(field, decimal_comma) {
        return Some(value);
    }
    parse_fallback(field, decimal_comma)
}

/// Strips ASCII spaces, tabs and one pair of double quotes.
fn trim_field(field: &[u8]) -> &[u8] {
    let field = field.trim_ascii();
    match field {
        [b'"', inner @ .., b'"'] => inner.trim_ascii(),
        _ => field,
    }
}

/// `[-+]digits[.digits]` with at most 19 significant digits in total.
fn parse_plain_decimal(field: &[u8], decimal_comma: bool) -> Option<f64> {
    let (negative, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut fraction_digits: Option<usize> = None;
    let mut digit_count = 0usize;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                if digit_count == 19 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digit_count += 1;
                if let Some(f) = fraction_digits.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction_digits.is_none() => fraction_digits = Some(0),
            b',' if decimal_comma && fraction_digits.is_none() => fraction_digits = Some(0),
            _ => return None,
        }
    }
    // At most 19 digits were accumulated, so the u64 did not overflow.
    if digit_count == 0 || mantissa > MAX_EXACT_MANTISSA {
        return None;
    }
    let power = POW10.get(fraction_digits.unwrap_or(0))?;
    let value = mantissa as f64 / power;
    Some(if negative { -value } else { value })
}

/// Everything the fast path declines: exponents, NaN, infinities, long
/// mantissas, decimal commas in such forms.
fn parse_fallback(field: &[u8], decimal_comma: bool) -> Option<f64> {
    if field.len() > MAX_FALLBACK_LEN {
        return None;
    }
    let mut buf = [0u8; MAX_FALLBACK_LEN];
    let out = buf.get_mut(..field.len())?;
    for (o, &b) in out.iter_mut().zip(field) {
        *o = if decimal_comma && b == b',' { b'.' } else { b };
    }
    let text = std::str::from_utf8(out).ok()?;
    // `str::parse` accepts "infinity" and "nan" in any case; plates write NaN
    // for dropped samples, which the analysis flags rather than the parser
    // rejecting them, so they are kept.
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_match_std() {
        for text in [
            "0",
            "1",
            "-1",
            "812.5",
            "-0.125",
            "+3.75",
            "1234567.891",
            "0.1",
            "0.3",
            "123456789012345678",
            "9007199254740993",
            "1.7976931348623157",
        ] {
            let expected: f64 = text.parse().unwrap();
            assert_eq!(
                parse_field(text.as_bytes(), false),
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn decimal_comma_only_when_allowed() {
        assert_eq!(parse_field(b"812,5", true), Some(812.5));
        assert_eq!(parse_field(b"812,5", false), None);
        assert_eq!(parse_field(b"1,5e2", true), Some(150.0));
    }

    #[test]
    fn exponents_and_specials_fall_back() {
        assert_eq!(parse_field(b"1.5e3", false), Some(1500.0));
        assert!(parse_field(b"NaN", false).is_some_and(f64::is_nan));
        assert_eq!(parse_field(b" \"42\" ", false), Some(42.0));
    }

    #[test]
    fn rejects_text_and_empty() {
        for text in ["", "abc", "1.2.3", "--1", "-", ".", "1 2", "\u{e9}"] {
            assert_eq!(parse_field(text.as_bytes(), true), None, "{text}");
        }
    }
}
