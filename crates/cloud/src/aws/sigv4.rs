//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as a pure function of the request, the time
//! and the credentials.
//!
//! The four steps of the algorithm, each a function here so tests can check them against the
//! published examples one by one:
//!
//! 1. [`canonical_request`]: method, canonical URI, canonical query, canonical headers, the
//!    names of the signed headers and the hex SHA-256 of the payload, one per line.
//! 2. [`string_to_sign`]: the algorithm, the time, the credential scope
//!    (`YYYYMMDD/region/service/aws4_request`) and the hex SHA-256 of the canonical request.
//! 3. [`signing_key`]: HMAC-SHA256 chained over the date, region, service and `aws4_request`,
//!    starting from `AWS4` + the secret access key.
//! 4. The signature, hex HMAC-SHA256 of the string to sign under the signing key, and the
//!    `Authorization` header that carries it ([`sign`]).
//!
//! Tested against AWS's Signature Version 4 test suite (`get-vanilla`,
//! `get-vanilla-query-order-key-case`, `get-utf8`, `post-vanilla`,
//! `post-x-www-form-urlencoded`, `post-sts-header-before`) and the IAM `ListUsers` example of
//! AWS's documentation, with their published signatures.

use std::fmt;

use mhp_domain::{Secret, Timestamp};

use crate::mac::{hmac_sha256, sha256_hex};

/// The algorithm's name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
const TERMINATOR: &str = "aws4_request";

/// The instant of signing, in the ISO 8601 basic form SigV4 uses (`20150830T123600Z`, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmzDate(String);

impl AmzDate {
    /// From seconds since the Unix epoch; `None` outside the years 1 to 9999.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        if !(1..=9999).contains(&year) {
            return None;
        }
        Some(Self(format!(
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        )))
    }

    /// From an MHP timestamp (milliseconds are dropped).
    pub fn from_timestamp(at: Timestamp) -> Option<Self> {
        Self::from_unix_seconds(at.as_millis().div_euclid(1000))
    }

    /// Parses `YYYYMMDDTHHMMSSZ` exactly, as sent in `X-Amz-Date`.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
            return None;
        }
        let number = |from: usize, to: usize| -> Option<i64> {
            b.get(from..to)?.iter().try_fold(0i64, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let (year, month, day) = (number(0, 4)?, number(4, 6)?, number(6, 8)?);
        let (hour, minute, second) = (number(9, 11)?, number(11, 13)?, number(13, 15)?);
        let valid = year >= 1
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then(|| Self(text.to_owned()))
    }

    /// The whole value, `20150830T123600Z`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date part, `20150830`, first element of the credential scope.
    pub fn date(&self) -> &str {
        self.0.get(..8).unwrap_or_default()
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        let number = |from: usize, to: usize| -> i64 {
            self.0
                .get(from..to)
                .and_then(|s| s.parse().ok())
                .unwrap_or_default()
        };
        let days = days_from_civil(number(0, 4), number(4, 6), number(6, 8));
        days * 86_400 + number(9, 11) * 3600 + number(11, 13) * 60 + number(13, 15)
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parts of an HTTP request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The absolute path, not percent-encoded (`/`, `/ሴ`); each segment is encoded once, as
    /// the test suite does. It must already be normalised (no `.` or `..` segments). The AWS
    /// JSON protocol always uses `/`.
    pub path: &'a str,
    /// Query parameters, not percent-encoded, in any order.
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign, names in any case. SigV4 requires `host` and `x-amz-date`; AWS
    /// JSON calls add `content-type`, `x-amz-target` and, with temporary credentials,
    /// `x-amz-security-token`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lower-case hex SHA-256 of the body ([`payload_hash`]).
    pub payload_sha256: &'a str,
}

/// Where a signature is valid: a day, a region and a service.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The instant of signing; its date starts the scope.
    pub date: &'a AmzDate,
    /// The region, `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, `kms`.
    pub service: &'a str,
}

impl Scope<'_> {
    /// `20150830/us-east-1/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date.date(),
            self.region,
            self.service
        )
    }
}

/// A signed request: what goes into the `Authorization` header, and the intermediate strings
/// for checking against published examples. `Debug` leaves out the signature.
#[derive(Clone)]
pub struct Signature {
    /// Step 1's canonical request.
    pub canonical_request: String,
    /// Step 2's string to sign.
    pub string_to_sign: String,
    /// The names of the signed headers, lower case, sorted, joined by `;`.
    pub signed_headers: String,
    /// Lower-case hex signature.
    pub signature: String,
    /// The `Authorization` header's value.
    pub authorization: String,
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Lower-case hex SHA-256 of a request body, for [`Request::payload_sha256`].
pub fn payload_hash(body: &[u8]) -> String {
    sha256_hex(body)
}

/// Step 1: the canonical request, and the signed headers' names (`host;x-amz-date`).
pub fn canonical_request(request: &Request<'_>) -> (String, String) {
    let headers = canonical_headers(request.headers);
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let header_lines: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let canonical = format!(
        "{}\n{}\n{}\n{header_lines}\n{signed_headers}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        request.payload_sha256
    );
    (canonical, signed_headers)
}

/// Step 2: the string to sign.
pub fn string_to_sign(scope: &Scope<'_>, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        scope.date.as_str(),
        scope.credential_scope(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Step 3: the signing key for a scope. It is valid for that day, region and service only,
/// but still a credential: it stays wrapped.
pub fn signing_key(secret_access_key: &Secret<String>, scope: &Scope<'_>) -> Secret<[u8; 32]> {
    let start = Secret::new(format!("AWS4{}", secret_access_key.expose()));
    let date = Secret::new(hmac_sha256(
        start.expose().as_bytes(),
        scope.date.date().as_bytes(),
    ));
    let region = Secret::new(hmac_sha256(date.expose(), scope.region.as_bytes()));
    let service = Secret::new(hmac_sha256(region.expose(), scope.service.as_bytes()));
    Secret::new(hmac_sha256(service.expose(), TERMINATOR.as_bytes()))
}

/// All four steps: signs `request` for `scope` with the access key pair.
pub fn sign(
    request: &Request<'_>,
    scope: &Scope<'_>,
    access_key_id: &str,
    secret_access_key: &Secret<String>,
) -> Signature {
    let (canonical_request, signed_headers) = canonical_request(request);
    let string_to_sign = string_to_sign(scope, &canonical_request);
    let key = signing_key(secret_access_key, scope);
    let signature = mhp_domain::to_hex(&hmac_sha256(key.expose(), string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={signed_headers}, Signature={signature}",
        scope.credential_scope()
    );
    Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// The parts of an `Authorization` header, as a server reads them to verify a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id.
    pub access_key_id: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The scope's region.
    pub region: String,
    /// The scope's service.
    pub service: String,
    /// The signed headers' names, as listed.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; `None` when the
    /// header is not of that form.
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let mut scope = credential?.split('/');
        let access_key_id = scope.next()?.to_owned();
        let date = scope.next()?.to_owned();
        let region = scope.next()?.to_owned();
        let service = scope.next()?.to_owned();
        if scope.next()? != TERMINATOR || scope.next().is_some() || access_key_id.is_empty() {
            return None;
        }
        let signed_headers: Vec<String> = signed?.split(';').map(str::to_owned).collect();
        if signed_headers.iter().any(String::is_empty) {
            return None;
        }
        Some(Self {
            access_key_id,
            date,
            region,
            service,
            signed_headers,
            signature: signature?.to_owned(),
        })
    }
}

/// Percent-encodes as SigV4 requires: unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay,
/// every other byte becomes `%XX` in upper case; `/` stays only when `keep_slash`.
pub fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    uri_encode(path, true)
}

fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| (uri_encode(name, false), uri_encode(value, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case names, sorted; values trimmed with inner runs of spaces collapsed; values of a
/// repeated header joined by `,` in the order given.
fn canonical_headers(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => merged.push((name, value)),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    merged
}

const fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year eras of 146,097
/// days, with years starting on 1 March so that the leap day falls at a year's end.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days lie between 0000-03-01 and 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    //! Expected values are AWS's published ones: the Signature Version 4 test suite
    //! (credentials `AKIDEXAMPLE` / `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region
    //! `us-east-1`, service `service`, 2015-08-30T12:36:00Z) and the IAM `ListUsers` example
    //! of the signing documentation.

    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// 2015-08-30T12:36:00Z.
    const SUITE_TIME: i64 = 1_440_938_160;
    const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    fn suite_sign(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: &[u8],
        service: &str,
        host: &str,
    ) -> Signature {
        let date = AmzDate::from_unix_seconds(SUITE_TIME).unwrap();
        let mut headers = vec![("Host", host), ("X-Amz-Date", date.as_str())];
        headers.extend_from_slice(extra);
        let payload = payload_hash(body);
        let request = Request {
            method,
            path,
            query,
            headers: &headers,
            payload_sha256: &payload,
        };
        let scope = Scope {
            date: &date,
            region: "us-east-1",
            service,
        };
        sign(&request, &scope, AKID, &Secret::new(SECRET.to_owned()))
    }

    fn suite(method: &str, path: &str, query: &[(&str, &str)], body: &[u8]) -> Signature {
        suite_sign(
            method,
            path,
            query,
            &[],
            body,
            "service",
            "example.amazonaws.com",
        )
    }

    #[test]
    fn get_vanilla_every_step() {
        let s = suite("GET", "/", &[], b"");
        assert_eq!(
            s.canonical_request,
            format!(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA256}"
            )
        );
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn get_vanilla_signing_key() {
        let date = AmzDate::parse("20150830T123600Z").unwrap();
        let scope = Scope {
            date: &date,
            region: "us-east-1",
            service: "service",
        };
        let key = signing_key(&Secret::new(SECRET.to_owned()), &scope);
        assert_eq!(
            mhp_domain::to_hex(key.expose()),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let s = suite(
            "GET",
            "/",
            &[("Param2", "value2"), ("Param1", "value1")],
            b"",
        );
        assert!(
            s.canonical_request
                .contains("\n/\nParam1=value1&Param2=value2\n")
        );
        assert_eq!(
            s.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn get_utf8() {
        let s = suite("GET", "/ሴ", &[], b"");
        assert!(s.canonical_request.starts_with("GET\n/%E1%88%B4\n"));
        assert_eq!(
            s.signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        );
    }

    #[test]
    fn post_vanilla() {
        let s = suite("POST", "/", &[], b"");
        assert_eq!(
            s.signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        let s = suite_sign(
            "POST",
            "/",
            &[],
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"Param1=value1",
            "service",
            "example.amazonaws.com",
        );
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
             9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        assert_eq!(
            s.signature,
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn post_sts_header_before_signs_the_session_token() {
        let s = suite_sign(
            "POST",
            "/",
            &[],
            &[("X-Amz-Security-Token", STS_TOKEN)],
            b"",
            "service",
            "example.amazonaws.com",
        );
        assert_eq!(s.signed_headers, "host;x-amz-date;x-amz-security-token");
        assert_eq!(
            s.signature,
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
    }

    #[test]
    fn iam_list_users_documentation_example() {
        let s = suite_sign(
            "GET",
            "/",
            &[("Action", "ListUsers"), ("Version", "2010-05-08")],
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            b"",
            "iam",
            "iam.amazonaws.com",
        );
        assert_eq!(
            sha256_hex(s.canonical_request.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        let date = AmzDate::parse("20150830T123600Z").unwrap();
        let scope = Scope {
            date: &date,
            region: "us-east-1",
            service: "iam",
        };
        assert_eq!(
            mhp_domain::to_hex(signing_key(&Secret::new(SECRET.to_owned()), &scope).expose()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn any_change_changes_the_signature() {
        let base = suite("POST", "/", &[], b"{}").signature;
        assert_ne!(base, suite("POST", "/", &[], b"{ }").signature);
        assert_ne!(base, suite("PUT", "/", &[], b"{}").signature);
        assert_ne!(base, suite("POST", "/x", &[], b"{}").signature);
        assert_ne!(base, suite("POST", "/", &[("a", "b")], b"{}").signature);
        let other_host = suite_sign("POST", "/", &[], &[], b"{}", "service", "example.com");
        assert_ne!(base, other_host.signature);
        let other_service =
            suite_sign("POST", "/", &[], &[], b"{}", "kms", "example.amazonaws.com");
        assert_ne!(base, other_service.signature);
    }

    #[test]
    fn headers_are_lowercased_trimmed_merged_and_sorted() {
        let headers = canonical_headers(&[("X-B", "  two   words "), ("x-a", "1"), ("X-A", "2")]);
        assert_eq!(
            headers,
            vec![
                ("x-a".to_owned(), "1,2".to_owned()),
                ("x-b".to_owned(), "two words".to_owned())
            ]
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a b/c~d*e+é", false), "a%20b%2Fc~d%2Ae%2B%C3%A9");
        assert_eq!(uri_encode("/a b/c", true), "/a%20b/c");
    }

    #[test]
    fn amz_dates_convert_both_ways() {
        let d = AmzDate::from_unix_seconds(SUITE_TIME).unwrap();
        assert_eq!(d.as_str(), "20150830T123600Z");
        assert_eq!(d.date(), "20150830");
        assert_eq!(d.unix_seconds(), SUITE_TIME);
        assert_eq!(
            AmzDate::from_timestamp(Timestamp::from_millis(SUITE_TIME * 1000 + 999)),
            Some(d)
        );
        for (seconds, text) in [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (4_102_444_799, "20991231T235959Z"),
            (4_107_542_399, "21000228T235959Z"),
            (-1, "19691231T235959Z"),
        ] {
            let d = AmzDate::from_unix_seconds(seconds).unwrap();
            assert_eq!(d.as_str(), text);
            assert_eq!(AmzDate::parse(text).unwrap().unix_seconds(), seconds);
        }
        // Every day for 600 years round-trips.
        for day in -80_000..140_000i64 {
            let d = AmzDate::from_unix_seconds(day * 86_400 + 3_723).unwrap();
            assert_eq!(AmzDate::parse(d.as_str()).unwrap(), d);
            assert_eq!(d.unix_seconds(), day * 86_400 + 3_723);
        }
    }

    #[test]
    fn amz_date_parsing_is_strict() {
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015083OT123600Z",
            "20150230T123600Z",
            "20151301T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "+0150830T123600Z",
        ] {
            assert_eq!(AmzDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorization_headers_parse() {
        let s = suite("GET", "/", &[], b"");
        let a = Authorization::parse(&s.authorization).unwrap();
        assert_eq!(a.access_key_id, AKID);
        assert_eq!(a.date, "20150830");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "service");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, s.signature);
        for bad in [
            "AWS4-HMAC-SHA1 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws3_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host;;x, Signature=00",
        ] {
            assert_eq!(Authorization::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_leaves_out_the_signature() {
        let s = suite("GET", "/", &[], b"");
        assert!(!format!("{s:?}").contains(&s.signature));
    }
}
