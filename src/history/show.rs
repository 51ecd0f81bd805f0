//! `memory-monitor show N`: incident N's entries of incidents.log (its reports, the OOM kills in
//! it, its recovered line), then its details from details.log, as they stand in the logs and
//! their rotated files. Each log is read twice, as a stream: the first pass finds incident N's
//! markers, so that the latest run's is shown; the second prints that episode's lines as it
//! reads them, so that an incident of any length is never held whole in memory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::files::{Problem, files_of, for_each_line};
use super::incident_lines::{Gather, Markers, marker_time};
use crate::say;
use crate::text::escape::{escape, escape_path};

pub const INCIDENTS: &str = "incidents.log";
pub const DETAILS: &str = "details.log";

/// Prints incident `number` from the logs in `dir` to stdout. Problems with files (damaged,
/// unreadable) and which run is shown go to stderr; an error is an incident not found or
/// stdout that cannot be written.
pub fn show(dir: &Path, number: u64) -> Result<(), String> {
    let mut said = Said::default();
    let incidents = files(dir, INCIDENTS)?;
    let details = files(dir, DETAILS)?;

    let mut in_incidents = Markers::new(number);
    scan(&incidents, &mut in_incidents, &mut said);
    let mut in_details = Markers::new(number);
    scan(&details, &mut in_details, &mut said);
    // details.log's older files may remain where incidents.log's are gone: details.log is the
    // bigger, so the two rotate apart.
    let markers = if in_incidents.found.is_empty() {
        &in_details
    } else {
        &in_incidents
    };
    let Some((marker, _)) = markers.latest() else {
        let held = match in_incidents.highest.max(in_details.highest) {
            Some(highest) => format!("the highest incident number there is {highest}"),
            None => "they hold no incident".to_string(),
        };
        return Err(format!(
            "no incident {number} in {}/{INCIDENTS} or {DETAILS}, rotated files included; {held}",
            escape_path(dir)
        ));
    };
    if let Some((_, earlier)) = markers.found.split_last()
        && !earlier.is_empty()
    {
        let times: Vec<String> = earlier.iter().map(|m| escape(marker_time(m))).collect();
        say!(
            Notice,
            "memory-monitor: incident {number} is in {} runs of the daemon; showing the latest, which began {} (the others began {})",
            markers.found.len(),
            escape(marker_time(marker)),
            times.join(", ")
        );
    }

    let stdout = io::stdout();
    let mut out = Printer::new(stdout.lock());
    let shown_incidents = in_incidents
        .last_occurrence(marker)
        .is_some_and(|nth| print(&incidents, marker, nth, &mut out, &mut said));
    let shown_details = in_details
        .last_occurrence(marker)
        .is_some_and(|nth| print(&details, marker, nth, &mut out, &mut said));
    match out.finish() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(format!("cannot write to stdout: {e}")),
        Ok(()) => {}
    }
    if !shown_details {
        say!(
            Notice,
            "memory-monitor: {DETAILS} holds no details of incident {number} (written with --details 0, or rotated away)"
        );
    }
    if !shown_incidents {
        say!(
            Notice,
            "memory-monitor: {INCIDENTS} no longer holds incident {number}; only its details are shown"
        );
    }
    Ok(())
}

fn files(dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    files_of(dir, name).map_err(|e| {
        let fix = match e.kind() {
            // The service's logs are its user's, 0750: for root and its group.
            io::ErrorKind::PermissionDenied => "; run it as root (sudo memory-monitor show …)",
            io::ErrorKind::NotFound => "; give the daemon's log directory with --log-dir",
            _ => "",
        };
        format!(
            "cannot read the log directory {}: {e}{fix}",
            escape_path(dir)
        )
    })
}

/// Each problem with a file is said once, though the file is read twice.
#[derive(Default)]
struct Said(Vec<Problem>);

impl Said {
    fn problems(&mut self, problems: Vec<Problem>) {
        for problem in problems {
            if !self.0.contains(&problem) {
                say!(Warning, "memory-monitor: {problem}");
                self.0.push(problem);
            }
        }
    }
}

fn scan(files: &[PathBuf], markers: &mut Markers, said: &mut Said) {
    for path in files {
        let problems = for_each_line(path, |line| markers.line(line));
        said.problems(problems);
    }
}

/// Prints the episode under the `nth` of the markers equal to `marker` in `files`; whether it
/// was there.
fn print(
    files: &[PathBuf],
    marker: &[u8],
    nth: usize,
    out: &mut Printer<impl Write>,
    said: &mut Said,
) -> bool {
    let mut gather = Gather::new(marker, nth);
    for (index, path) in files.iter().enumerate() {
        let problems = for_each_line(path, |line| {
            gather.line(index, line, |file, line| out.line(files, file, line));
        });
        said.problems(problems);
    }
    gather.finish(|file, line| out.line(files, file, line));
    gather.found()
}

/// Writes lines escaped, under a `==> FILE <==` line (as `tail` does for several files) each
/// time they come from another file (the entries end in a blank line already). Keeps the first write error and writes nothing after it.
struct Printer<W: Write> {
    out: io::BufWriter<W>,
    file: Option<PathBuf>,
    error: Option<io::Error>,
    text: String,
    /// Whether the last line written was blank.
    blank: bool,
}

impl<W: Write> Printer<W> {
    fn new(out: W) -> Printer<W> {
        Printer {
            out: io::BufWriter::new(out),
            file: None,
            error: None,
            text: String::new(),
            blank: true,
        }
    }

    fn line(&mut self, files: &[PathBuf], file: usize, line: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let Some(path) = files.get(file) else {
            return;
        };
        self.text.clear();
        if self.file.as_ref() != Some(path) {
            // A file cut short may end an entry without its blank line.
            if self.file.is_some() && !self.blank {
                self.text.push('\n');
            }
            let name = path
                .file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default();
            self.text.push_str("==> ");
            self.text.push_str(&escape(name));
            self.text.push_str(" <==\n");
            self.file = Some(path.clone());
        }
        // What the daemon wrote is escaped already and passes unchanged; raw bytes that a
        // tampered file holds come out as \xNN, so nothing moves the terminal's cursor.
        crate::text::escape::escape_into(&mut self.text, line);
        self.blank = line.is_empty();
        self.text.push('\n');
        if let Err(e) = self.out.write_all(self.text.as_bytes()) {
            self.error = Some(e);
        }
    }

    fn finish(mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}
