//! A log and the files logrotate made of it, read back line by line, oldest first: `NAME.8.gz`
//! … `NAME.2.gz`, `NAME.1`, `NAME` (or, with logrotate's `dateext`, `NAME-20261122.gz` and the
//! like, by date). Compressed files are decompressed as they are read. A file that is cut short,
//! or a gzip member that is damaged, gives the lines read before the damage and one problem
//! saying what was skipped; nothing in a file can make the reader panic or hold more than one
//! line in memory.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::text::escape::escape_path;

/// Longer lines are skipped: no entry the daemon writes comes near it, so such a line is
/// damage, and reading it whole would let a file make the reader hold any amount of memory.
pub const LINE_LIMIT: usize = 4 << 20;

/// The files of log `name` in `dir`, oldest first, the current one last. A rotated file is
/// `name` followed by `.N` or `-SUFFIX` (logrotate's `dateext`), then maybe `.gz`; numbered
/// files are older the higher their number, dated ones older the earlier their suffix sorts,
/// and dated ones come before numbered ones.
pub fn files_of(dir: &Path, name: &str) -> io::Result<Vec<PathBuf>> {
    let mut found: Vec<(Age, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(age) = age_of(&file_name, name) else {
            continue;
        };
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            found.push((age, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// Where a file stands among a log's files; sorts oldest first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    /// `dateext`: the suffix sorts as the date does.
    Dated(String),
    /// `.N`: the higher, the older, so it sorts by `u64::MAX - N`.
    Numbered(u64),
    Current,
}

fn age_of(file_name: &OsStr, name: &str) -> Option<Age> {
    let file_name = file_name.to_str()?;
    let rest = file_name.strip_prefix(name)?;
    if rest.is_empty() {
        return Some(Age::Current);
    }
    let rest = rest.strip_suffix(".gz").unwrap_or(rest);
    if let Some(number) = rest.strip_prefix('.') {
        let n: u64 = number.parse().ok()?;
        return Some(Age::Numbered(u64::MAX - n));
    }
    let suffix = rest.strip_prefix('-')?;
    (!suffix.is_empty()
        && suffix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then(|| Age::Dated(suffix.to_string()))
}

/// Whether a file is read through gzip: by its name.
pub fn is_compressed(path: &Path) -> bool {
    path.extension() == Some(OsStr::new("gz"))
}

/// What could not be read of a file, said in one line on stderr by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", escape_path(&self.path), self.what)
    }
}

/// Calls `line` with each whole line of `path` (without its `\n`), in order, decompressing a
/// `.gz`. Returns what was skipped: a file that cannot be opened, a read error or damaged gzip
/// data (the lines before it are given), a last line without its `\n` (a write torn by a crash:
/// not given), and lines over [`LINE_LIMIT`] (counted, not given).
pub fn for_each_line(path: &Path, line: impl FnMut(&[u8])) -> Vec<Problem> {
    let problem = |what: String| Problem {
        path: path.to_path_buf(),
        what,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return vec![problem(format!("cannot be read: {e}"))],
    };
    let reader: Box<dyn Read> = if is_compressed(path) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    lines_of(BufReader::with_capacity(64 * 1024, reader), line)
        .into_iter()
        .map(problem)
        .collect()
}

/// [`for_each_line`] on any reader; the problems without the file's name.
pub fn lines_of(mut reader: impl BufRead, mut line: impl FnMut(&[u8])) -> Vec<String> {
    let mut problems = Vec::new();
    let mut buf = Vec::new();
    let mut too_long = 0u64;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(LINE_LIMIT as u64 + 1)
            .read_until(b'\n', &mut buf);
        match read {
            Ok(0) => break,
            Ok(_) if buf.last() == Some(&b'\n') => {
                buf.pop();
                line(&buf);
            }
            Ok(_) if buf.len() > LINE_LIMIT => {
                too_long += 1;
                // The rest of the long line, up to its end, is skipped too.
                if let Err(e) = skip_line(&mut reader) {
                    problems.push(unreadable(&e));
                    break;
                }
            }
            Ok(_) => {
                problems.push(format!(
                    "its last line is cut short ({} bytes without an end), skipped",
                    buf.len()
                ));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                problems.push(unreadable(&e));
                break;
            }
        }
    }
    if too_long > 0 {
        problems.push(format!(
            "{too_long} lines longer than {} MiB skipped",
            LINE_LIMIT >> 20
        ));
    }
    problems
}

fn skip_line(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(());
            }
            None => {
                let all = buf.len();
                reader.consume(all);
            }
        }
    }
}

fn unreadable(error: &io::Error) -> String {
    // flate2 says "corrupt deflate stream", "invalid gzip header" and the like as InvalidInput
    // or InvalidData; a file cut short ends its deflate stream early, an UnexpectedEof.
    match error.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("damaged compressed data ({error}); the rest of the file is skipped")
        }
        io::ErrorKind::UnexpectedEof => {
            "its compressed data ends early (a file cut short, or not gzip); the rest is skipped"
                .to_string()
        }
        _ => format!("read failed ({error}); the rest of the file is skipped"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn lines(path: &Path) -> (Vec<String>, Vec<Problem>) {
        let mut got = Vec::new();
        let problems = for_each_line(path, |l| got.push(String::from_utf8_lossy(l).into_owned()));
        (got, problems)
    }

    #[test]
    fn the_files_of_a_log_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "incidents.jsonl",
            "incidents.jsonl.1",
            "incidents.jsonl.2.gz",
            "incidents.jsonl.10.gz",
            "incidents.jsonl-20261101.gz",
            "incidents.jsonl-20261025",
            "incidents.log",
            "incidents.log.1",
            "incidents.jsonl.tmp",
            "incidents.jsonl.x.gz",
            "incidents.jsonlx",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("incidents.jsonl.3")).unwrap();
        let names: Vec<_> = files_of(dir.path(), "incidents.jsonl")
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "incidents.jsonl-20261025",
                "incidents.jsonl-20261101.gz",
                "incidents.jsonl.10.gz",
                "incidents.jsonl.2.gz",
                "incidents.jsonl.1",
                "incidents.jsonl",
            ]
        );
    }

    #[test]
    fn plain_and_compressed_files_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a");
        let packed = dir.path().join("a.1.gz");
        std::fs::write(&plain, "one\ntwo\n").unwrap();
        // Two gzip members, as `cat a.gz b.gz` makes: both are read.
        let mut both = gz(b"one\n");
        both.extend(gz(b"two\n"));
        std::fs::write(&packed, both).unwrap();
        assert_eq!(lines(&plain), (vec!["one".into(), "two".into()], vec![]));
        assert_eq!(lines(&packed), (vec!["one".into(), "two".into()], vec![]));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, "one\n{\"tim").unwrap();
        let (got, problems) = lines(&path);
        assert_eq!(got, ["one"]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].what.contains("cut short"), "{problems:?}");
    }

    #[test]
    fn a_cut_or_damaged_gzip_gives_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let packed = gz(text.as_bytes());
        let cut = dir.path().join("cut.gz");
        std::fs::write(&cut, &packed[..packed.len() / 2]).unwrap();
        let (got, problems) = lines(&cut);
        assert!(got.len() < 2000, "{}", got.len());
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, l)| *l == format!("line {i}"))
        );
        assert_eq!(problems.len(), 1, "{problems:?}");

        let mut damaged = packed.clone();
        for b in &mut damaged[20..60] {
            *b ^= 0x55;
        }
        let bad = dir.path().join("bad.gz");
        std::fs::write(&bad, &damaged).unwrap();
        let (got, problems) = lines(&bad);
        assert!(got.len() < 2000);
        assert_eq!(problems.len(), 1, "{problems:?}");

        let not_gzip = dir.path().join("plain.gz");
        std::fs::write(&not_gzip, "one\n").unwrap();
        let (got, problems) = lines(&not_gzip);
        assert!(got.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn an_endless_line_is_skipped_without_holding_it() {
        let mut text = b"one\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', LINE_LIMIT * 2));
        text.extend(b"\ntwo\n");
        let mut got = Vec::new();
        let problems = lines_of(&text[..], |l| got.push(l.to_vec()));
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn a_missing_file_is_one_problem() {
        let (got, problems) = lines(Path::new("/nonexistent/memory-monitor/x"));
        assert!(got.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
