//! Under systemd's Type=notify: ready after the first sample, the status, the watchdog fed at
//! half its time even through a capture that takes long, stopping. Here systemd is a socket of
//! the test's own.

use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::util::FakeProc;
use crate::util::daemon::{Launch, cat, set_used};

/// Every message systemd would get, with when it came, received on a thread of its own so
/// that each is timed as it arrives.
struct FakeSystemd {
    messages: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl FakeSystemd {
    fn bind(path: &std::path::Path) -> FakeSystemd {
        let socket = UnixDatagram::bind(path).unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::clone(&messages);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                received.lock().unwrap().push((Instant::now(), text));
            }
        });
        FakeSystemd { messages }
    }

    fn wait_until(&self, done: impl Fn(&[(Instant, String)]) -> bool) -> Vec<(Instant, String)> {
        let deadline = Instant::now() + crate::util::patience(Duration::from_secs(20));
        loop {
            let messages = self.messages.lock().unwrap().clone();
            if done(&messages) {
                return messages;
            }
            assert!(Instant::now() < deadline, "{messages:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn systemd_hears_ready_status_and_a_watchdog_fed_through_a_slow_capture() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let systemd = FakeSystemd::bind(&path);
    let watchdog = crate::util::patience(Duration::from_millis(600));
    // ps takes three watchdog times; its own timeout is far longer.
    let slow = crate::util::patience(Duration::from_millis(1800));
    let mut daemon = Launch::new(
        &fake,
        &format!(
            "sleep {}; {}",
            slow.as_secs_f64(),
            cat("psaux_jc-centos77_1.txt")
        ),
        &cat("top_jc-ubuntu2010_1.txt"),
    )
    .env("NOTIFY_SOCKET", path.to_str().unwrap())
    .env("WATCHDOG_USEC", &watchdog.as_micros().to_string())
    .start();
    let messages = systemd.wait_until(|m| !m.is_empty());
    assert_eq!(messages[0].1, "READY=1\nSTATUS=RAM 50.0%, no incident\n");
    daemon.wait_for_start();
    let started = messages[0].0;

    set_used(&fake, 90);
    daemon.wait_for_reports(1);
    let messages = systemd.wait_until(|m| {
        m.iter()
            .any(|(_, text)| text.contains("STATUS=incident 1 since "))
    });
    let status = messages
        .iter()
        .find(|(_, t)| t.contains("STATUS=incident 1"))
        .unwrap();
    let header = daemon.read("incidents.log");
    let time = header
        .lines()
        .find(|l| l.contains("| incident 1 | RAM"))
        .unwrap();
    let hms = time.split(' ').nth(1).unwrap();
    assert!(
        status
            .1
            .contains(&format!("STATUS=incident 1 since {hms}, RAM 90.0%")),
        "{status:?}"
    );

    set_used(&fake, 50);
    systemd.wait_until(|m| {
        m.iter().any(|(_, text)| {
            text.contains("STATUS=RAM 50.0%, no incident") && !text.starts_with("READY")
        })
    });
    let (status, _, _) = daemon.stop(Signal::TERM);
    assert!(status.success());
    let messages = systemd.wait_until(|m| m.iter().any(|(_, t)| t.starts_with("STOPPING=1")));

    // Fed at half its time, never later than its time, through the capture of a slow ps.
    let pings: Vec<Instant> = messages
        .iter()
        .filter(|(_, t)| t.starts_with("WATCHDOG=1"))
        .map(|&(at, _)| at)
        .collect();
    let mut last = started;
    for &ping in &pings {
        let gap = ping - last;
        assert!(
            gap < watchdog,
            "{gap:?} without a ping, the watchdog's time is {watchdog:?}: {:?}",
            messages
                .iter()
                .map(|(at, text)| (*at - started, text))
                .collect::<Vec<_>>()
        );
        last = ping;
    }
    assert!(
        pings.len() as u32
            >= (messages.last().unwrap().0 - started).as_millis() as u32
                / watchdog.as_millis() as u32,
        "{} pings: {messages:?}",
        pings.len()
    );
}
