//! Data-driven test over tests/corpus/: each input file sits beside a
//! `.expected` file holding its outcome, an error (code, line, message) or
//! the format read and the trials and their flags. The file name is the
//! name hint, so names without a known extension (`.upload`) exercise
//! format detection from the content. Run with `UPDATE_EXPECT=1` to rewrite the
//! expectations after a deliberate change, then review the diff.

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use mhp_biomech::{Format, ParseError, ParseOptions, analyze_bytes};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The outcome of analysing one input, as one line of text.
fn outcome(name: &str, input: impl std::io::BufRead, opts: &ParseOptions) -> String {
    match analyze_bytes(name, input, opts) {
        Err(err) => {
            assert_line_matches(&err);
            format!("error {}: {err}", err.code())
        }
        Ok(report) => {
            let trials: Vec<String> = report
                .trials
                .iter()
                .map(|t| {
                    let flags: Vec<&str> = t.flags.iter().map(|f| f.code.as_str()).collect();
                    let metrics = if t.metrics.is_some() {
                        "metrics"
                    } else {
                        "no metrics"
                    };
                    format!("{} [{}] {metrics}", t.kind.code(), flags.join(","))
                })
                .collect();
            let format = report.recording.format.map_or("none", Format::as_str);
            format!("ok {format}: {}", trials.join("; "))
        }
    }
}

/// Errors that name a line say so in the message, as the CLI prints it.
fn assert_line_matches(err: &ParseError) {
    if let Some(line) = err.line() {
        assert!(
            err.to_string().starts_with(&format!("line {line}: ")),
            "{err}"
        );
    }
}

#[test]
fn corpus_files_give_their_expected_outcome() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut inputs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "expected"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 20, "corpus went missing");
    let mut mismatches = Vec::new();
    for path in &inputs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = BufReader::new(fs::File::open(path).unwrap());
        let got = outcome(&name, file, &ParseOptions::default());
        let expected_path = path.with_extension(format!(
            "{}.expected",
            path.extension().unwrap().to_string_lossy()
        ));
        if update {
            fs::write(&expected_path, format!("{got}\n")).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim_end() != got {
            mismatches.push(format!(
                "{name}:\n  expected: {}\n  got:      {got}",
                expected.trim_end()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// An endless, valid CSV or JSON stream (a header, then one row repeated), produced lazily so the test holds no
/// large buffer.
struct EndlessStream {
    header: &'static [u8],
    row: &'static [u8],
    pos: usize,
}

impl Read for EndlessStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for (i, b) in buf.iter_mut().enumerate() {
            let p = self.pos + i;
            *b = match self.header.get(p) {
                Some(&h) => h,
                None => self.row[(p - self.header.len()) % self.row.len()],
            };
        }
        self.pos += buf.len();
        Ok(buf.len())
    }
}

#[test]
fn input_far_over_the_limit_is_refused() {
    let limit = 1024 * 1024;
    let opts = ParseOptions::default().with_max_input_bytes(limit);
    for name in ["huge.csv", "huge.json"] {
        let (header, row): (&'static [u8], &'static [u8]) = if name.ends_with(".json") {
            (
                b"{\"sample_rate_hz\": 1000, \"channels\": {\"fz\": [801.25",
                b", 801.25\n",
            )
        } else {
            (b"# sample_rate_hz: 1000\nfz_n\n", b"801.25\n")
        };
        // 1 GiB on offer; the parser must stop just past 1 MiB.
        let stream = EndlessStream {
            header,
            row,
            pos: 0,
        }
        .take(1 << 30);
        let got = outcome(name, BufReader::new(stream), &opts);
        assert_eq!(
            got, "error too_large: input exceeds the size limit of 1048576 bytes",
            "{name}"
        );
    }
}

#[test]
fn input_exactly_at_the_limit_is_accepted() {
    let text = "# sample_rate_hz: 100\nfz_n\n800\n800\n";
    let opts = ParseOptions::default().with_max_input_bytes(text.len() as u64);
    assert!(analyze_bytes("a.csv", text.as_bytes(), &opts).is_ok());
    let opts = opts.with_max_input_bytes(text.len() as u64 - 1);
    assert!(matches!(
        analyze_bytes("a.csv", text.as_bytes(), &opts),
        Err(ParseError::TooLarge { .. })
    ));
}

#[test]
fn a_line_without_end_is_refused() {
    let text = format!("fz_n\n{}", "8".repeat(100_000));
    let got = outcome(
        "a.csv",
        text.as_bytes(),
        &ParseOptions::default().with_sample_rate(1000.0),
    );
    assert_eq!(
        got,
        "error line_too_long: line 2: line too long (over 64 KiB)"
    );
}
