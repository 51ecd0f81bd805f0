//! The hooks shipped in `dist/hooks/`, run as the daemon runs them: by path, in a clean
//! environment of the `MEMORY_MONITOR_*` variables and their settings, the entry on stdin. ntfy
//! and webhook post to a server of Python's http.server on 127.0.0.1 that records each request;
//! mail and wall run a fake sendmail and a fake wall that record what they were given. What a
//! hook sent is read back by an independent reader (Python's json and email modules), never by
//! the hooks' own logic.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::util::{self, fake_program};

const HOOKS: [&str; 4] = ["mail", "ntfy", "wall", "webhook"];

const HEADER: &str = "2026-11-22 14:03:15 +01:00 | incident 3 | RAM 83.2% (3.08 of 3.70 GiB) | CPU 12.5% | above 80% for 15s";
const SUMMARY: &str = "memory-monitor on pi: report (sustained), RAM 83.2%";
const OOM_KILL: &str = "2026-11-22 14:03:15 +01:00 | oom-kill | PID 4242 (python3) of alice | anon-rss 1.52 GiB, file-rss 6.50 MiB, shmem-rss 0 KiB | system-wide";

/// What a shell, JSON, Slack or Discord would take for syntax, as a process's command line can
/// hold it in an entry; `PWNED` becomes a path that must never come to exist. A tab, which the
/// daemon escapes, is here anyway: the hooks must not count on that.
const HOSTILE: &str = "evil \"quoted\" 'single' back\\slash \\\\ $(touch PWNED) `touch PWNED` ${HOME} \
     <!channel> <@U123> @everyone &amp; & é😀 \u{202e}rtl \\x1b[2J tab\there \\n";

fn hook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dist/hooks")
        .join(name)
}

/// A report entry as incidents.log holds it, with `command` in its process table.
fn report_entry(command: &str) -> String {
    format!(
        "{HEADER}\n  RAM over the last 10m: ▃▃▃▇▇ (low 38.4%, high 83.4%)\n  \
         top - 14:03:15 up 3 days,  7:59,  1 user,  load average: 2.14, 1.13, 0.94\n\
         USER                 PID %CPU %MEM     VSZ     RSS TTY   STAT START   TIME COMMAND\n\
         alice               2713  2.4 79.2 4508144 3077224 ?     Sl   Nov21 533:33 {command}\n\
         root                 566  0.3  2.4  479652   94132 tty7  Ssl+ Nov19 133:37 /usr/lib/xorg/Xorg :0\n"
    )
}

/// A report entry of `size` bytes or more: a process table of many lines, each with some
/// multibyte characters.
fn big_entry(size: usize) -> String {
    let mut entry = report_entry("/usr/bin/firefox");
    let mut pid = 10_000;
    while entry.len() < size {
        entry.push_str(&format!(
            "bob                {pid}  0.0  0.1   12345    6789 ?     S    10:00   0:00 /usr/bin/python3 -m wörker --queue=ünïcode-😀 --id={pid}\n"
        ));
        pid += 1;
    }
    entry
}

/// The variables the daemon sets for a report, with a hostile top command.
fn report_vars() -> Vec<(&'static str, String)> {
    [
        ("MEMORY_MONITOR_EVENT", "report"),
        ("MEMORY_MONITOR_INCIDENT", "3"),
        ("MEMORY_MONITOR_REASON", "sustained"),
        ("MEMORY_MONITOR_TIME", "2026-11-22T14:03:15+01:00"),
        ("MEMORY_MONITOR_HOST", "pi"),
        ("MEMORY_MONITOR_RAM_PERCENT", "83.2"),
        ("MEMORY_MONITOR_CPU_PERCENT", "12.5"),
        ("MEMORY_MONITOR_TOP_PID", "2713"),
        ("MEMORY_MONITOR_TOP_USER", "alice"),
        ("MEMORY_MONITOR_TOP_COMMAND", HOSTILE),
        ("MEMORY_MONITOR_TOP_RSS_KIB", "3077224"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

fn oom_kill_vars() -> Vec<(&'static str, String)> {
    [
        ("MEMORY_MONITOR_EVENT", "oom-kill"),
        ("MEMORY_MONITOR_TIME", "2026-11-22T14:03:15+01:00"),
        ("MEMORY_MONITOR_HOST", "pi"),
        ("MEMORY_MONITOR_OOM_PID", "4242"),
        ("MEMORY_MONITOR_OOM_NAME", "python3"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Running a hook.

/// A hook's run: its exit, its output, and whether it read all of its stdin.
struct Ran {
    out: Output,
    read_all: bool,
}

impl Ran {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
}

/// A place for one test: a `bin/` put first on PATH for fake programs, a settings file the hooks
/// read instead of /etc/memory-monitor/hooks.conf (absent until written), and where `PWNED`
/// points.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        Place { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("hooks.conf")
    }

    fn pwned(&self) -> PathBuf {
        self.dir.path().join("pwned")
    }

    /// `text` with `PWNED` made this place's path.
    fn armed(&self, text: &str) -> String {
        text.replace("PWNED", self.pwned().to_str().unwrap())
    }

    /// Runs hook `name` as the daemon does: no arguments, only PATH, LANG, TZ and `vars` in its
    /// environment, `stdin` written to it, whole, while it runs.
    fn run(&self, name: &str, vars: &[(&str, String)], stdin: &[u8]) -> Ran {
        let path = format!(
            "{}:{}",
            self.bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new(hook(name))
            .env_clear()
            .env("PATH", path)
            .env("LANG", "C.UTF-8")
            .env("TZ", "UTC")
            .env("HOOKS_CONF", self.conf())
            .envs(vars.iter().map(|(k, v)| (k, self.armed(v))))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut input = child.stdin.take().unwrap();
        let stdin = stdin.to_vec();
        // A hook that stops reading early makes this write fail, as it would the daemon's.
        let writer = std::thread::spawn(move || input.write_all(&stdin).is_ok());
        let out = child.wait_with_output().unwrap();
        Ran {
            out,
            read_all: writer.join().unwrap(),
        }
    }

    /// `body` as the fake program `name` on this place's PATH.
    fn fake(&self, name: &str, body: &str) {
        fake_program(&self.bin(), name, body);
    }
}

/// Whether the programs are there; skips (fails under CI) when one is not.
fn require(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !util::on_path(p))
        .collect();
    if !missing.is_empty() {
        util::skip(
            &missing.join(" and "),
            &format!("sudo apt-get install {}", missing.join(" ")),
        );
    }
    missing.is_empty()
}

// ---------------------------------------------------------------------------------------------
// A server that records what it is sent.

/// Python's http.server on 127.0.0.1, on a port of the kernel's choosing, answering every POST
/// with `status` after writing it down: N.body, then N.head (method, path, the headers as sent).
const SERVER: &str = r#"
import http.server, os, sys
out, status = sys.argv[1], int(sys.argv[2])
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n = len([f for f in os.listdir(out) if f.endswith(".head")])
        with open(f"{out}/{n}.body", "wb") as f:
            f.write(body)
        head = f"{self.command} {self.path}\n" + "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        with open(f"{out}/{n}.part", "wb") as f:
            f.write(head.encode("latin-1"))  # http.server decoded the bytes as Latin-1
        os.rename(f"{out}/{n}.part", f"{out}/{n}.head")
        self.send_response(status)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"{}\n")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

struct Server {
    child: Child,
    port: u16,
    records: tempfile::TempDir,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    fn start(status: u16) -> Server {
        let records = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(SERVER)
            .arg(records.path())
            .arg(status.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the server did not start: {line:?}"));
        Server {
            child,
            port,
            records,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        let mut requests = Vec::new();
        for n in 0.. {
            let Ok(head) = std::fs::read(self.records.path().join(format!("{n}.head"))) else {
                break;
            };
            let head = String::from_utf8(head).expect("headers in UTF-8");
            let mut lines = head.lines();
            let (method, path) = lines.next().unwrap().split_once(' ').unwrap();
            requests.push(Request {
                method: method.to_string(),
                path: path.to_string(),
                headers: lines
                    .map(|l| {
                        let (k, v) = l.split_once(": ").unwrap();
                        (k.to_string(), v.to_string())
                    })
                    .collect(),
                body: std::fs::read(self.records.path().join(format!("{n}.body"))).unwrap(),
            });
        }
        requests
    }

    /// The one request it got.
    fn request(&self) -> Request {
        let mut requests = self.requests();
        assert_eq!(requests.len(), 1, "one request");
        requests.remove(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A URL on which nothing listens: a port the kernel gave and took back.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/topic")
}

/// The values of `keys` in the JSON object `body`, as Python's json module reads it: a string
/// as it is, anything else as compact JSON with sorted keys, a missing key as null.
fn json_values(body: &[u8], keys: &[&str]) -> Vec<String> {
    let mut python = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys\n\
             d = json.load(sys.stdin.buffer)\n\
             for k in sys.argv[1:]:\n\
             \x20   v = d.get(k)\n\
             \x20   v = v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(',', ':'))\n\
             \x20   sys.stdout.buffer.write(v.encode() + b'\\0')",
        )
        .args(keys)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    python.stdin.take().unwrap().write_all(body).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not JSON: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(body)
    );
    let values = String::from_utf8(out.stdout).unwrap();
    values.split_terminator('\0').map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// All four.

/// Short POSIX sh scripts, executable, whose header says how to turn them on.
#[test]
fn every_hook_is_a_short_script_that_says_how_to_use_it() {
    use std::os::unix::fs::PermissionsExt;
    let mut shipped: Vec<String> = std::fs::read_dir(hook(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    shipped.sort();
    assert_eq!(
        shipped, HOOKS,
        "install.sh and package.sh ship all of dist/hooks/"
    );
    for name in HOOKS {
        let text = std::fs::read_to_string(hook(name)).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{name}");
        assert!(text.lines().count() < 40, "{name}: 40 lines or more");
        let mode = std::fs::metadata(hook(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{name}");
        for needed in [
            format!("MEMORY_MONITOR_ON_EVENT=/usr/share/memory-monitor/hooks/{name}"),
            "/usr/local/share/".to_string(),
            "sudo systemctl restart memory-monitor".to_string(),
        ] {
            assert!(text.contains(&needed), "{name} does not say {needed}");
        }
        if name != "wall" {
            for needed in [
                "/etc/memory-monitor/hooks.conf (root:memory-monitor, mode 0640",
                "hook-network.conf",
            ] {
                assert!(text.contains(needed), "{name} does not say {needed}");
            }
        }
    }
}

/// curl gets the URL, which holds a secret (ntfy's topic, Slack's and Discord's token) and the
/// token from a file descriptor: a process's arguments are there for any user to read.
#[test]
fn secrets_stay_out_of_curl_arguments() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let real_curl = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join("curl"))
        .find(|p| p.is_file())
        .unwrap();
    for (name, url_setting) in [("ntfy", "NTFY_URL"), ("webhook", "WEBHOOK_URL")] {
        let place = Place::new();
        place.fake(
            "curl",
            &format!(
                "printf '%s\\n' \"$@\" >'{}/argv'\nexec '{}' \"$@\"",
                place.dir.path().display(),
                real_curl.display()
            ),
        );
        let server = Server::start(200);
        let mut vars = report_vars();
        vars.push((url_setting, server.url("/secret-topic-x7")));
        vars.push(("NTFY_TOKEN", "tk_secret_token".to_string()));
        let ran = place.run(name, &vars, report_entry("x").as_bytes());
        assert!(ran.out.status.success(), "{name}: {}", ran.stderr());
        assert_eq!(server.request().path, "/secret-topic-x7", "{name}");
        let argv = std::fs::read_to_string(place.dir.path().join("argv")).unwrap();
        assert!(argv.contains("--fail"), "{name}: {argv}");
        for secret in ["secret-topic-x7", "tk_secret_token"] {
            assert!(!argv.contains(secret), "{name} gave curl {secret}: {argv}");
        }
    }
}

/// /etc/memory-monitor/hooks.conf (here HOOKS_CONF) is read when there, and what it sets wins over
/// the environment, which fills in what it leaves unset.
#[test]
fn the_settings_file_wins_over_the_environment() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    std::fs::write(
        place.conf(),
        "# settings of the hooks\nNTFY_TOKEN='from the file'\n",
    )
    .unwrap();
    let mut vars = report_vars();
    vars.push(("NTFY_URL", server.url("/from-the-environment")));
    vars.push(("NTFY_TOKEN", "from the environment".to_string()));
    let ran = place.run("ntfy", &vars, report_entry("x").as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    let request = server.request();
    assert_eq!(request.path, "/from-the-environment");
    assert_eq!(
        request.header("Authorization"),
        Some("Bearer from the file")
    );
}

/// Without its required setting a hook says which one, fails, and sends nothing.
#[test]
fn a_missing_setting_is_named() {
    let place = Place::new();
    place.fake("sendmail", "touch \"$0.ran\"");
    for (name, setting) in [
        ("ntfy", "NTFY_URL"),
        ("webhook", "WEBHOOK_URL"),
        ("mail", "MAIL_TO"),
    ] {
        let ran = place.run(name, &report_vars(), report_entry("x").as_bytes());
        assert!(!ran.out.status.success(), "{name}");
        let stderr = ran.stderr();
        assert!(
            stderr.contains(setting) && stderr.contains(place.conf().to_str().unwrap()),
            "{name}: {stderr}"
        );
    }
    assert!(!place.bin().join("sendmail.ran").exists());
}

/// A settings file the service's user cannot read (root's, 0600) is named as such, not taken
/// for an absent one. Root reads every file, so as root the hook runs as nobody.
#[test]
fn an_unreadable_settings_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let root = rustix::process::geteuid().is_root();
    if root && !util::on_path("setpriv") {
        util::skip("setpriv", "sudo apt-get install util-linux");
        return;
    }
    let place = Place::new();
    let public = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(place.dir.path(), public).unwrap();
    std::fs::write(place.conf(), "NTFY_URL=x\nWEBHOOK_URL=x\nMAIL_TO=x\n").unwrap();
    std::fs::set_permissions(place.conf(), std::fs::Permissions::from_mode(0o000)).unwrap();
    for name in ["ntfy", "webhook", "mail"] {
        let mut command = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(hook(name));
            c
        } else {
            Command::new(hook(name))
        };
        let out = command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOOKS_CONF", place.conf())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "{name} hook: cannot read {}\n",
                place.conf().display()
            )),
            "{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ntfy

#[test]
fn ntfy_posts_the_entry_with_a_title_a_priority_and_tags() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    let entry = place.armed(&report_entry(HOSTILE));
    let mut vars = report_vars();
    vars.push(("NTFY_URL", server.url("/mm-alerts")));
    vars.push(("NTFY_TOKEN", "tk_abc\"def".to_string()));
    let ran = place.run("ntfy", &vars, entry.as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.read_all);
    assert_eq!(
        ran.out.stdout, b"",
        "ntfy's answer is not the daemon's business"
    );
    let request = server.request();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/mm-alerts")
    );
    assert_eq!(
        request.body,
        entry.as_bytes(),
        "the entry, whole and untouched"
    );
    assert_eq!(request.header("Title"), Some(SUMMARY));
    assert_eq!(request.header("Priority"), Some("high"));
    assert_eq!(request.header("Tags"), Some("warning"));
    assert_eq!(request.header("Authorization"), Some("Bearer tk_abc\"def"));
    assert_eq!(
        request.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(!place.pwned().exists(), "the entry ran a command");
}

#[test]
fn ntfy_tells_an_oom_kill_and_a_recovery_apart() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    let mut vars = oom_kill_vars();
    vars.push(("NTFY_URL", server.url("/t")));
    let oom_kill = format!("{OOM_KILL}\n");
    assert!(
        place
            .run("ntfy", &vars, oom_kill.as_bytes())
            .out
            .status
            .success()
    );
    let recovered = "2026-11-22 14:09:40 +01:00 | recovered | RAM 41.0% | high for 6m25s\n";
    let vars = vec![
        ("MEMORY_MONITOR_EVENT", "recovered".to_string()),
        ("MEMORY_MONITOR_INCIDENT", "3".to_string()),
        ("MEMORY_MONITOR_HOST", "pi".to_string()),
        ("MEMORY_MONITOR_RAM_PERCENT", "41.0".to_string()),
        ("NTFY_URL", server.url("/t")),
    ];
    assert!(
        place
            .run("ntfy", &vars, recovered.as_bytes())
            .out
            .status
            .success()
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let (kill, recovery) = (&requests[0], &requests[1]);
    assert_eq!(kill.body, oom_kill.as_bytes());
    assert_eq!(
        kill.header("Title"),
        Some("memory-monitor on pi: oom-kill of python3")
    );
    assert_eq!(kill.header("Priority"), Some("high"));
    assert_eq!(kill.header("Tags"), Some("skull"));
    assert_eq!(kill.header("Authorization"), None, "no token, no header");
    assert_eq!(recovery.body, recovered.as_bytes());
    assert_eq!(
        recovery.header("Title"),
        Some("memory-monitor on pi: recovered, RAM 41.0%")
    );
    assert_eq!(recovery.header("Priority"), Some("default"));
    assert_eq!(recovery.header("Tags"), Some("white_check_mark"));
}

/// ntfy takes 4096 bytes of message (more becomes an attachment): whole lines of a big entry up
/// to that, in UTF-8, and a note that there is more; and all of the entry read, so that the
/// daemon's write does not fail.
#[test]
fn ntfy_sends_at_most_4_kib_of_a_big_entry_and_reads_it_all() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    let entry = big_entry(300_000);
    let mut vars = report_vars();
    vars.push(("NTFY_URL", server.url("/t")));
    let ran = place.run("ntfy", &vars, entry.as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.read_all, "the hook left the entry unread");
    let body = String::from_utf8(server.request().body).expect("UTF-8");
    assert!(body.len() <= 4096, "{} bytes", body.len());
    assert!(body.len() > 3500, "as much as fits: {} bytes", body.len());
    let shown = body
        .strip_suffix("[cut here: the whole entry is in incidents.log]\n")
        .expect("a note that the entry was cut");
    assert!(shown.starts_with(&format!("{HEADER}\n")));
    assert!(entry.starts_with(shown), "whole lines from the start");
    assert!(shown.ends_with('\n'));
}

/// An entry whose first line alone is over 4 KiB (an OOM kill in a cgroup of a very long name):
/// cut where a character starts, not in the middle of one, which ntfy would not take for text.
#[test]
fn ntfy_cuts_a_long_first_line_between_characters() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    let mut vars = oom_kill_vars();
    vars.push(("NTFY_URL", server.url("/t")));
    for pad in ["", "x", "xx"] {
        let line = format!(
            "{OOM_KILL} | limit of cgroup /{pad}{}\n",
            "é€😀".repeat(600)
        );
        let ran = place.run("ntfy", &vars, line.as_bytes());
        assert!(ran.out.status.success(), "{}", ran.stderr());
    }
    for request in server.requests() {
        let body = String::from_utf8(request.body).expect("cut between characters");
        let cut = body
            .strip_suffix("\n[cut here: the whole entry is in incidents.log]\n")
            .unwrap();
        assert!(cut.starts_with(OOM_KILL), "{cut}");
        assert!(cut.len() > 3890 && body.len() <= 4096, "{}", cut.len());
    }
}

#[test]
fn ntfy_fails_when_ntfy_does() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(500);
    for url in [server.url("/t"), closed_url()] {
        let mut vars = report_vars();
        vars.push(("NTFY_URL", url.clone()));
        let ran = place.run("ntfy", &vars, report_entry("x").as_bytes());
        assert!(!ran.out.status.success(), "{url}");
        assert!(
            ran.stderr().starts_with("curl: ("),
            "{url}: {}",
            ran.stderr()
        );
    }
    assert_eq!(server.requests().len(), 1, "the server said 500 once");
}

// ---------------------------------------------------------------------------------------------
// webhook

/// The JSON that Slack and Discord both take, read back by Python's json: the summary and the
/// entry in a code block, exact in `content`, with <, > and & escaped for Slack in `text`, no
/// mention that Discord would ping, and each variable by its name for Home Assistant.
#[test]
fn webhook_posts_json_that_holds_any_text() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(204);
    let entry = place.armed(&report_entry(HOSTILE));
    let mut vars = report_vars();
    vars.push(("WEBHOOK_URL", server.url("/api/webhooks/1/tok")));
    let ran = place.run("webhook", &vars, entry.as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.read_all);
    let request = server.request();
    assert_eq!(request.path, "/api/webhooks/1/tok");
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    let values = json_values(
        &request.body,
        &[
            "content",
            "text",
            "allowed_mentions",
            "event",
            "host",
            "ram_percent",
            "incident",
            "top_command",
            "oom_name",
        ],
    );
    let content = format!("{SUMMARY}\n```\n{}\n```", entry.trim_end());
    assert_eq!(values[0], content);
    let slack = content
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert_eq!(values[1], slack);
    assert!(!values[1].contains("<!channel>"));
    assert_eq!(values[2], r#"{"parse":[]}"#);
    assert_eq!(values[3..7], ["report", "pi", "83.2", "3"]);
    assert_eq!(values[7], place.armed(HOSTILE));
    assert_eq!(values[8], "null", "a variable the daemon did not set");
    assert!(!place.pwned().exists(), "the entry ran a command");
}

/// Discord refuses content over 2000 characters: a big entry is cut to fit, whole lines, with a
/// note, in valid JSON.
#[test]
fn webhook_keeps_within_discords_2000_characters() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(200);
    let mut vars = report_vars();
    vars.push(("WEBHOOK_URL", server.url("/hook")));
    let entry = big_entry(300_000);
    let long_line = format!("{OOM_KILL} | limit of cgroup /{}\n", "é€😀\"\\".repeat(600));
    for stdin in [entry.as_str(), long_line.as_str()] {
        let ran = place.run("webhook", &vars, stdin.as_bytes());
        assert!(ran.out.status.success(), "{}", ran.stderr());
        assert!(ran.read_all);
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, stdin) in requests.iter().zip([&entry, &long_line]) {
        let values = json_values(&request.body, &["content", "text"]);
        let content = &values[0];
        assert!(
            content.chars().count() <= 2000,
            "{}",
            content.chars().count()
        );
        assert!(
            content.len() > 1600,
            "as much as fits: {} bytes",
            content.len()
        );
        let shown = content
            .strip_prefix(&format!("{SUMMARY}\n```\n"))
            .and_then(|c| c.strip_suffix("\n[cut here: the whole entry is in incidents.log]\n```"))
            .expect(content);
        assert!(stdin.starts_with(shown), "{shown}");
        assert!(values[1].chars().count() < 2100);
    }
}

#[test]
fn webhook_fails_when_the_server_does() {
    if !require(&["python3", "curl"]) {
        return;
    }
    let place = Place::new();
    let server = Server::start(500);
    for url in [server.url("/hook"), closed_url()] {
        let mut vars = report_vars();
        vars.push(("WEBHOOK_URL", url.clone()));
        let ran = place.run("webhook", &vars, report_entry("x").as_bytes());
        assert!(!ran.out.status.success(), "{url}");
        assert!(
            ran.stderr().starts_with("curl: ("),
            "{url}: {}",
            ran.stderr()
        );
    }
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// mail

/// The mail as Python's email module reads it: its headers, then its body decoded.
fn parse_mail(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let mut python = Command::new("python3")
        .arg("-c")
        .arg(
            "import email, sys\n\
             m = email.message_from_binary_file(sys.stdin.buffer)\n\
             assert not m.defects, m.defects\n\
             for k, v in m.items():\n\
             \x20   sys.stdout.buffer.write(f'{k}: {v}\\n'.encode())\n\
             sys.stdout.buffer.write(b'\\0' + m.get_payload(decode=True))",
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    python.stdin.take().unwrap().write_all(raw).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out.stdout.iter().position(|&b| b == 0).unwrap();
    let headers = String::from_utf8(out.stdout[..split].to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (headers, out.stdout[split + 1..].to_vec())
}

/// A fake sendmail that keeps its arguments and its input beside itself.
fn recording_sendmail(place: &Place, status: i32) {
    place.fake(
        "sendmail",
        &format!("printf '%s\\n' \"$@\" >\"$0.argv\"; cat >\"$0.in\"; exit {status}"),
    );
}

/// The whole entry, byte for byte, whatever it holds (long lines, trailing blanks, `=`, UTF-8),
/// in lines that SMTP carries, with the headers a mail needs.
#[test]
fn mail_sends_the_whole_entry_with_its_headers() {
    if !require(&["python3"]) {
        return;
    }
    let place = Place::new();
    recording_sendmail(&place, 0);
    let mut entry = place.armed(&report_entry(HOSTILE));
    entry.push_str(&format!(
        "{} =3D= trailing blanks \t \n",
        "wide ü ".repeat(900)
    ));
    entry.push_str(&big_entry(50_000));
    let mut vars = report_vars();
    vars.push(("MAIL_TO", "ops@example.com, pi@example.org".to_string()));
    vars.push(("MAIL_FROM", "Pi <pi@example.org>".to_string()));
    let ran = place.run("mail", &vars, entry.as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.read_all);

    let argv = std::fs::read_to_string(place.bin().join("sendmail.argv")).unwrap();
    assert_eq!(
        argv, "-t\n-oi\n",
        "recipients from To:, a lone dot is no end"
    );
    let raw = std::fs::read(place.bin().join("sendmail.in")).unwrap();
    for line in raw.split(|&b| b == b'\n') {
        assert!(line.len() <= 76, "a line of {} bytes", line.len());
        assert!(line.is_ascii(), "{}", String::from_utf8_lossy(line));
    }
    let (headers, body) = parse_mail(&raw);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("To"), Some("ops@example.com, pi@example.org"));
    assert_eq!(header("From"), Some("Pi <pi@example.org>"));
    assert_eq!(header("Subject"), Some(SUMMARY));
    assert_eq!(header("Content-Type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(header("MIME-Version"), Some("1.0"));
    assert_eq!(header("Auto-Submitted"), Some("auto-generated"));
    let date = header("Date").unwrap();
    assert!(
        regex::Regex::new(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
            .unwrap()
            .is_match(date),
        "{date}"
    );
    assert_eq!(body, entry.as_bytes());
    assert!(!place.pwned().exists(), "the entry ran a command");
}

/// A subject is printable ASCII: anything else becomes ?, so that no header needs encoding and
/// no line break gets into one.
#[test]
fn mail_subject_and_sender_are_plain() {
    if !require(&["python3"]) {
        return;
    }
    let place = Place::new();
    recording_sendmail(&place, 0);
    let mut vars = oom_kill_vars();
    vars.retain(|(k, _)| *k != "MEMORY_MONITOR_OOM_NAME");
    vars.push((
        "MEMORY_MONITOR_OOM_NAME",
        "pyth☃n\\x0aSubject: x".to_string(),
    ));
    vars.push(("MAIL_TO", "ops@example.com".to_string()));
    let ran = place.run("mail", &vars, format!("{OOM_KILL}\n").as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    let (headers, body) = parse_mail(&std::fs::read(place.bin().join("sendmail.in")).unwrap());
    let subjects: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "Subject")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        subjects,
        ["memory-monitor on pi: oom-kill of pyth???n\\x0aSubject: x"]
    );
    assert!(
        !headers.iter().any(|(k, _)| k == "From"),
        "no MAIL_FROM, no From: sendmail sets it"
    );
    assert_eq!(body, format!("{OOM_KILL}\n").as_bytes());
}

#[test]
fn mail_fails_when_sendmail_does() {
    let place = Place::new();
    recording_sendmail(&place, 75);
    let mut vars = report_vars();
    vars.push(("MAIL_TO", "ops@example.com".to_string()));
    let ran = place.run("mail", &vars, report_entry("x").as_bytes());
    assert_eq!(ran.out.status.code(), Some(75), "{}", ran.stderr());
}

// ---------------------------------------------------------------------------------------------
// wall

/// A place with a fake `wall` that runs `body`, and a fake `id` that says the hook runs as the
/// service's user, a member of the group tty or not: the outcome must not depend on who runs the
/// tests.
fn wall_place(body: &str, in_tty: bool) -> Place {
    let place = Place::new();
    place.fake("wall", body);
    let groups = if in_tty {
        "memory-monitor tty"
    } else {
        "memory-monitor"
    };
    place.fake(
        "id",
        &format!(
            "case $1 in -u) echo 999 ;; -un) echo memory-monitor ;; -Gn) echo {groups} ;; *) exit 1 ;; esac"
        ),
    );
    place
}

/// Three short lines, whatever the size of the entry: what happened, the entry's first line,
/// the biggest process.
#[test]
fn wall_writes_three_short_lines() {
    let place = wall_place("printf '%s\\n' \"$@\" >\"$0.argv\"; cat >\"$0.in\"", true);
    let entry = big_entry(300_000);
    let ran = place.run("wall", &report_vars(), entry.as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.read_all);
    assert_eq!(
        std::fs::read_to_string(place.bin().join("wall.argv")).unwrap(),
        "\n",
        "no arguments: the message on stdin"
    );
    let message = std::fs::read_to_string(place.bin().join("wall.in")).unwrap();
    assert_eq!(
        message,
        format!(
            "{SUMMARY}\n{HEADER}\n\
             biggest: PID 2713 of alice, 3005 MiB: {}\n",
            place.armed(HOSTILE)
        )
    );
    assert!(!place.pwned().exists(), "the message ran a command");
}

/// A command line can be long (here 90 KB): cut at 240 bytes, between characters.
#[test]
fn wall_cuts_a_long_command() {
    let place = wall_place("cat >\"$0.in\"", true);
    let mut vars = oom_kill_vars();
    vars.extend(
        report_vars()
            .into_iter()
            .filter(|(k, _)| k.starts_with("MEMORY_MONITOR_TOP_")),
    );
    vars.retain(|(k, _)| *k != "MEMORY_MONITOR_TOP_COMMAND");
    let command = format!("/usr/bin/python3 -c {}", "ä€😀".repeat(10_000));
    vars.push(("MEMORY_MONITOR_TOP_COMMAND", command.clone()));
    let ran = place.run("wall", &vars, format!("{OOM_KILL}\n").as_bytes());
    assert!(ran.out.status.success(), "{}", ran.stderr());
    let message = String::from_utf8(std::fs::read(place.bin().join("wall.in")).unwrap())
        .expect("cut between characters");
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[..2],
        ["memory-monitor on pi: oom-kill of python3", OOM_KILL]
    );
    let shown = lines[2]
        .strip_prefix("biggest: PID 2713 of alice, 3005 MiB: ")
        .unwrap();
    assert!(command.starts_with(shown));
    assert!((230..=240).contains(&lines[2].len()), "{}", lines[2].len());
    assert_eq!(lines.len(), 3);
}

#[test]
fn wall_fails_when_wall_does() {
    let place = wall_place(
        "cat >/dev/null; echo 'wall: cannot get tty name' >&2; exit 1",
        true,
    );
    let ran = place.run("wall", &report_vars(), report_entry("x").as_bytes());
    assert_eq!(ran.out.status.code(), Some(1));
    assert_eq!(ran.stderr(), "wall: cannot get tty name\n");
}

/// wall passes over, silently, each terminal it may not write to, and exits 0: without the
/// group tty (SupplementaryGroups=tty in a drop-in) the hook says so and fails instead.
#[test]
fn wall_fails_without_the_group_tty() {
    let place = wall_place("touch \"$0.ran\"", false);
    let ran = place.run("wall", &report_vars(), big_entry(100_000).as_bytes());
    assert_eq!(ran.out.status.code(), Some(1));
    assert!(ran.read_all);
    assert_eq!(
        ran.stderr(),
        format!(
            "wall hook: memory-monitor is not in the group tty, so wall reaches no terminal (see {})\n",
            hook("wall").display()
        )
    );
    assert!(!place.bin().join("wall.ran").exists());
}
