//! `/proc/PID/cgroup`: which cgroups a process is in, and the systemd unit or container that
//! a cgroup path belongs to.
//!
//! Each line of the file is `hierarchy-ID:controller-list:path` (`man 7 cgroups`). Cgroup v2
//! has one line, `0::<path>`; cgroup v1 has one line per mounted hierarchy, e.g.
//! `4:memory:/system.slice/cron.service` or `1:name=systemd:/user.slice/...`; a hybrid machine
//! (systemd's default on Debian 10/11 and Ubuntu 18.04–21.04) has both. The kernel prints the
//! path raw: it may hold `:` (containerd's systemd driver on v1 names a cgroup
//! `kubepods-…slice:cri-containerd:<id>`), any byte but `/` and NUL, and on v2 a cgroup that was
//! removed while the process was still in it is shown with ` (deleted)` after the path.

/// The cgroup paths of one process, borrowed from the file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcCgroups<'a> {
    /// The v2 line, `0::<path>`.
    pub unified: Option<&'a [u8]>,
    /// The v1 line of the memory controller, `N:memory:<path>` (or one naming several
    /// controllers, memory among them).
    pub memory_v1: Option<&'a [u8]>,
    /// The v1 line of systemd's own hierarchy, `N:name=systemd:<path>`.
    pub systemd_v1: Option<&'a [u8]>,
}

/// Reads `/proc/PID/cgroup`. The line is split on its first two colons only, so a path holding
/// `:` stays whole. A line that is not `digits:controllers:/path` is ignored, as is a `0:` line
/// that names controllers; of two lines for the same hierarchy the first is kept.
///
/// ```
/// use memory_monitor::parse::cgroup::parse_proc_cgroup;
/// let found = parse_proc_cgroup(b"5:cpu,memory:/system.slice/cron.service\n1:name=systemd:/init.scope\n0::/init.scope\n");
/// assert_eq!(found.memory_v1, Some(&b"/system.slice/cron.service"[..]));
/// assert_eq!(found.systemd_v1, Some(&b"/init.scope"[..]));
/// assert_eq!(found.unified, Some(&b"/init.scope"[..]));
/// ```
pub fn parse_proc_cgroup(text: &[u8]) -> ProcCgroups<'_> {
    let mut found = ProcCgroups::default();
    for line in text.split(|&b| b == b'\n') {
        let Some((id, controllers, path)) = split_line(line) else {
            continue;
        };
        if id == b"0" {
            if controllers.is_empty() && found.unified.is_none() {
                found.unified = Some(path);
            }
            continue;
        }
        for controller in controllers.split(|&b| b == b',') {
            let slot = match controller {
                b"memory" => &mut found.memory_v1,
                b"name=systemd" => &mut found.systemd_v1,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(path);
            }
        }
    }
    found
}

/// `ID:controllers:path`, split on the first two colons; `None` unless ID is digits and the
/// path is absolute.
fn split_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut parts = line.splitn(3, |&b| b == b':');
    let id = parts.next()?;
    let controllers = parts.next()?;
    let path = parts.next()?;
    let absolute = path.first() == Some(&b'/');
    (!id.is_empty() && id.iter().all(u8::is_ascii_digit) && absolute).then_some((
        id,
        controllers,
        path,
    ))
}

/// The unit or container a cgroup path belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitOf<'a> {
    /// As a person reads it: `demo-x.service`, `session-3.scope`, `docker 3f2a1b4c5d6e`.
    pub name: Vec<u8>,
    /// The cgroup of the unit itself: the path up to and including its component.
    pub cgroup: &'a [u8],
}

/// The unit or container that the cgroup `path` (as `/proc/PID/cgroup` shows it) belongs to:
/// its name for a person, and its own cgroup, so that `<cgroupfs>/<cgroup>/memory.current` (or
/// `memory.usage_in_bytes` on v1) is its memory. `None` for a path outside any unit: the root,
/// only slices, a component systemd would not take for a unit, or a path holding `.` or `..`
/// (seen from another cgroup namespace), whose cgroup cannot be found from here.
///
/// Containers are looked for first, anywhere in the path, the outermost one winning; so a
/// podman container inside `user@0.service` is named as the container, and docker inside LXC
/// as the LXC container. Ids are shortened to 12 characters, as `docker ps` shows them.
///
/// | rule | path | name |
/// |---|---|---|
/// | docker, systemd driver | `/system.slice/docker-3f2a…(64 hex).scope` | `docker 3f2a1b4c5d6e` |
/// | docker, cgroupfs driver | `/docker/3f2a…(64 hex)` | `docker 3f2a1b4c5d6e` |
/// | podman (systemd and cgroupfs drivers) | `/machine.slice/libpod-cf21….scope/container`, `/libpod_parent/libpod-cf21…` | `podman cf21d19260ac` |
/// | containerd (CRI, systemd driver) | `/kubepods.slice/…/cri-containerd-0f99….scope` | `containerd 0f99ad5f4516` |
/// | containerd's v1 colon form | `/system.slice/containerd.service/kubepods-…slice:cri-containerd:d3d8…` | `containerd d3d8ccf5cca9` |
/// | CRI-O | `/kubepods.slice/…/crio-2227….scope` | `cri-o 2227daf62df6` |
/// | kubernetes, cgroupfs driver (runtime not in the path) | `/kubepods/burstable/pod9805…/7499…` | `k8s 74998d19bd3c` |
/// | LXC/LXD | `/lxc.payload.buster/…`, `/lxc.payload/example/…`, `/lxc/p1` | `lxc buster`, `lxc example`, `lxc p1` |
/// | LXC's monitor process | `/lxc.monitor.buster`, `/lxc.monitor/example` | `lxc monitor buster` |
/// | machined (nspawn, libvirt VMs, rkt) | `/machine.slice/machine-qemu\x2d7\x2dvm1.scope/emulator` | `machine qemu-7-vm1` |
///
/// An id must be 12 or more hex digits: `crio-conmon-<id>.scope` or `/docker/BestEffort` are no
/// container and fall to the unit rule. A kubernetes pod's own cgroup (`/kubepods/burstable/pod…`,
/// or the systemd driver's `kubepods-…-pod….slice`) holds no process but the pod's containers',
/// and is treated like a slice.
///
/// Otherwise systemd's own rule (`cg_path_get_unit` in systemd's src/basic/cgroup-util.c):
/// every leading component that is a slice (`*.slice`) is skipped, and the next one is the unit
/// if it is a valid unit name (after dropping one leading `_`, systemd's escape for names that
/// clash with the kernel's). The name has `\x2d` turned back into `-`; nothing else is
/// unescaped.
///
/// | path | name |
/// |---|---|
/// | `/system.slice/nginx.service` | `nginx.service` |
/// | `/init.scope` | `init.scope` |
/// | `/user.slice/user-1000.slice/session-3.scope` | `session-3.scope` |
/// | `/user.slice/user-1000.slice/user@1000.service/app.slice/x.service` | `user@1000.service` (the user's own units are inside it) |
/// | `/machine.slice/systemd-nspawn@web.service/payload` | `systemd-nspawn@web.service` |
/// | `/system.slice/system-systemd\x2dfsck.slice/systemd-fsck@dev-sda1.service` | `systemd-fsck@dev-sda1.service` |
/// | `/`, `/user.slice`, `/system.slice/user-1000.slice` | `None` |
/// | `/process_api/60d4…`, `/user/1000.user/1.session` (not systemd's) | `None` |
pub fn unit_of(path: &[u8]) -> Option<UnitOf<'_>> {
    if components(path).any(|(c, _)| c == b"." || c == b"..") {
        return None;
    }
    container_of(path).or_else(|| systemd_unit_of(path))
}

/// The components of `path` with the offset just past each, empty ones skipped.
fn components(path: &[u8]) -> impl Iterator<Item = (&[u8], usize)> + Clone {
    let mut start = 0;
    path.split(|&b| b == b'/').filter_map(move |component| {
        let end = start + component.len();
        start = end + 1;
        (!component.is_empty()).then_some((component, end))
    })
}

fn container_of(path: &[u8]) -> Option<UnitOf<'_>> {
    let mut rest = components(path);
    while let Some((component, end)) = rest.next() {
        if let Some((name, end)) = container_here(component, end, rest.clone()) {
            return Some(UnitOf {
                name,
                cgroup: path.get(..end)?,
            });
        }
    }
    None
}

/// The container whose cgroup is `component` (ending at `end`), or starts there and takes the
/// components that follow: its name and the end of its cgroup.
fn container_here<'a>(
    component: &'a [u8],
    end: usize,
    mut after: impl Iterator<Item = (&'a [u8], usize)>,
) -> Option<(Vec<u8>, usize)> {
    const SCOPES: [(&[u8], &[u8]); 4] = [
        (b"docker-", b"docker"),
        (b"libpod-", b"podman"),
        (b"cri-containerd-", b"containerd"),
        (b"crio-", b"cri-o"),
    ];
    for (prefix, runtime) in SCOPES {
        if let Some(rest) = component.strip_prefix(prefix) {
            // The systemd driver's `<prefix><id>.scope`; podman's and CRI-O's cgroupfs drivers
            // leave the `.scope` out.
            let id = rest.strip_suffix(b".scope").unwrap_or(rest);
            if let Some(short) = container_id(id) {
                return Some((named(runtime, short), end));
            }
        }
    }
    if let Some(name) = colon_form(component) {
        return Some((name, end));
    }
    if let Some(name) = component
        .strip_prefix(b"machine-")
        .and_then(|rest| rest.strip_suffix(b".scope"))
        .filter(|name| !name.is_empty())
    {
        return Some((named(b"machine", &unescape_dash(name)), end));
    }
    for (prefix, kind) in [
        (&b"lxc.payload"[..], &b"lxc"[..]),
        (b"lxc.monitor", b"lxc monitor"),
        (b"lxc", b"lxc"),
    ] {
        let Some(rest) = component.strip_prefix(prefix) else {
            continue;
        };
        if rest.is_empty() {
            // `/lxc.payload/NAME` (LXC 4) or `/lxc/NAME` (LXC before 3.1): the next component.
            let (name, end) = after.next()?;
            return Some((named(kind, name), end));
        }
        // `/lxc.payload.NAME` (LXD, LXC 5).
        if prefix != b"lxc"
            && let Some(name) = rest.strip_prefix(b".").filter(|n| !n.is_empty())
        {
            return Some((named(kind, name), end));
        }
    }
    match component {
        b"docker" => {
            let (id, end) = after.next()?;
            Some((named(b"docker", container_id(id)?), end))
        }
        b"kubepods" => {
            let (mut next, _) = after.next()?;
            if matches!(next, b"burstable" | b"besteffort" | b"guaranteed") {
                next = after.next()?.0;
            }
            next.strip_prefix(b"pod")?;
            let (id, end) = after.next()?;
            Some((named(b"k8s", container_id(id)?), end))
        }
        _ => None,
    }
}

/// containerd's systemd cgroup driver on cgroup v1 makes a directory named after the OCI
/// cgroupsPath, `<slice>:<prefix>:<id>`, e.g. `kubepods-besteffort-pod….slice:cri-containerd:<id>`.
fn colon_form(component: &[u8]) -> Option<Vec<u8>> {
    let mut parts = component.rsplitn(3, |&b| b == b':');
    let id = parts.next()?;
    let prefix = parts.next()?;
    parts.next()?;
    let runtime: &[u8] = match prefix {
        b"cri-containerd" => b"containerd",
        b"crio" => b"cri-o",
        b"docker" => b"docker",
        b"libpod" => b"podman",
        _ => return None,
    };
    Some(named(runtime, container_id(id)?))
}

/// The first 12 characters of an id of 12 or more hex digits.
fn container_id(id: &[u8]) -> Option<&[u8]> {
    if id.len() >= 12 && id.iter().all(u8::is_ascii_hexdigit) {
        id.get(..12)
    } else {
        None
    }
}

fn named(kind: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(kind.len() + 1 + name.len());
    out.extend_from_slice(kind);
    out.push(b' ');
    out.extend_from_slice(name);
    out
}

fn systemd_unit_of(path: &[u8]) -> Option<UnitOf<'_>> {
    let (component, end) = components(path).find(|(c, _)| !is_slice(c))?;
    let unit = cg_unescape(component);
    if !is_unit_name(unit) || unit.ends_with(b".slice") {
        return None;
    }
    Some(UnitOf {
        name: unescape_dash(unit),
        cgroup: path.get(..end)?,
    })
}

/// systemd's `valid_slice_name`: `x.slice` at least, a valid unit name once unescaped.
fn is_slice(component: &[u8]) -> bool {
    component.len() >= b"x.slice".len()
        && component.ends_with(b".slice")
        && is_unit_name(cg_unescape(component))
}

/// systemd's `cg_unescape`: one leading `_` is dropped.
fn cg_unescape(component: &[u8]) -> &[u8] {
    component.strip_prefix(b"_").unwrap_or(component)
}

/// systemd's `unit_name_is_valid(name, UNIT_NAME_PLAIN|UNIT_NAME_INSTANCE)`: at most 255 bytes
/// of `[A-Za-z0-9:_.\\@-]`, a known type after the last dot, a non-empty prefix, and at most one
/// `@`, which neither starts the name nor ends the prefix (`foo@.service` is a template, never a
/// running unit).
fn is_unit_name(name: &[u8]) -> bool {
    const TYPES: [&[u8]; 11] = [
        b"service",
        b"socket",
        b"target",
        b"device",
        b"mount",
        b"automount",
        b"swap",
        b"timer",
        b"path",
        b"slice",
        b"scope",
    ];
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b":-_.\\@".contains(b);
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let (prefix, suffix) = (name.get(..dot), name.get(dot + 1..));
    let (Some(prefix), Some(suffix)) = (prefix, suffix) else {
        return false;
    };
    let instance_ok = match prefix.iter().position(|&b| b == b'@') {
        None => true,
        Some(at) => prefix
            .get(at + 1..)
            .is_some_and(|instance| at > 0 && !instance.is_empty() && !instance.contains(&b'@')),
    };
    name.len() <= 255
        && !prefix.is_empty()
        && TYPES.contains(&suffix)
        && name.iter().all(allowed)
        && instance_ok
}

/// `\x2d` (how systemd escapes `-` inside one part of a unit name) back to `-`.
fn unescape_dash(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    let mut rest = name;
    while let Some((&byte, after)) = rest.split_first() {
        if let Some(after_escape) = rest.strip_prefix(b"\\x2d") {
            out.push(b'-');
            rest = after_escape;
        } else {
            out.push(byte);
            rest = after;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

    fn unit(path: &str) -> Option<(String, String)> {
        let found = unit_of(path.as_bytes())?;
        Some((
            String::from_utf8(found.name).unwrap(),
            String::from_utf8(found.cgroup.to_vec()).unwrap(),
        ))
    }

    fn named(path: &str) -> Option<String> {
        unit(path).map(|(name, _)| name)
    }

    #[track_caller]
    fn check(path: &str, name: &str, cgroup: &str) {
        assert_eq!(
            unit(path),
            Some((name.to_owned(), cgroup.to_owned())),
            "{path}"
        );
    }

    // --- parse_proc_cgroup -------------------------------------------------------------------

    #[test]
    fn a_pure_v2_file_has_one_line() {
        let found = parse_proc_cgroup(b"0::/system.slice/nginx.service\n");
        assert_eq!(
            found,
            ProcCgroups {
                unified: Some(b"/system.slice/nginx.service"),
                memory_v1: None,
                systemd_v1: None,
            }
        );
    }

    #[test]
    fn a_hybrid_file_gives_all_three() {
        let text =
            b"12:memory:/init.scope\n3:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/init.scope\n";
        let found = parse_proc_cgroup(text);
        assert_eq!(found.memory_v1, Some(&b"/init.scope"[..]));
        assert_eq!(found.systemd_v1, Some(&b"/init.scope"[..]));
        assert_eq!(found.unified, Some(&b"/init.scope"[..]));
    }

    #[test]
    fn memory_is_found_in_a_list_of_controllers() {
        let found = parse_proc_cgroup(b"1:hugetlb,perf_event,memory,cpu:/lxc/b6d1\n");
        assert_eq!(found.memory_v1, Some(&b"/lxc/b6d1"[..]));
        // A controller whose name merely contains "memory" is another one.
        let found = parse_proc_cgroup(b"4:memory_x:/a\n5:xmemory:/b\n");
        assert_eq!(found.memory_v1, None);
    }

    #[test]
    fn a_path_may_hold_colons() {
        let text =
            b"4:memory:/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:abc\n";
        let found = parse_proc_cgroup(text);
        assert_eq!(
            found.memory_v1,
            Some(&b"/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:abc"[..])
        );
        let found = parse_proc_cgroup(b"0::/a:b:c\n");
        assert_eq!(found.unified, Some(&b"/a:b:c"[..]));
    }

    #[test]
    fn malformed_lines_are_ignored() {
        let text = b"garbage\n:memory:/x\nx:memory:/x\n4:memory\n4:memory:relative\n0:memory:/x\n\n\xff:\xfe\n4:memory:/ok\n";
        let found = parse_proc_cgroup(text);
        assert_eq!(found.memory_v1, Some(&b"/ok"[..]));
        assert_eq!(found.unified, None);
        assert_eq!(parse_proc_cgroup(b""), ProcCgroups::default());
    }

    #[test]
    fn paths_stay_raw_bytes() {
        let found = parse_proc_cgroup(b"0::/system.slice/caf\xc3\xa9\xff.service (deleted)\n");
        assert_eq!(
            found.unified,
            Some(&b"/system.slice/caf\xc3\xa9\xff.service (deleted)"[..])
        );
    }

    #[test]
    fn the_first_of_two_lines_is_kept() {
        let found = parse_proc_cgroup(b"0::/a.service\n0::/b.service\n4:memory:/c\n9:memory:/d\n");
        assert_eq!(found.unified, Some(&b"/a.service"[..]));
        assert_eq!(found.memory_v1, Some(&b"/c"[..]));
    }

    // --- unit_of: systemd's rule -------------------------------------------------------------

    #[test]
    fn a_service_under_slices() {
        check(
            "/system.slice/nginx.service",
            "nginx.service",
            "/system.slice/nginx.service",
        );
        check(
            "/system.slice/systemd-udevd.service/udev",
            "systemd-udevd.service",
            "/system.slice/systemd-udevd.service",
        );
    }

    #[test]
    fn init_scope() {
        check("/init.scope", "init.scope", "/init.scope");
    }

    #[test]
    fn a_session_scope() {
        check(
            "/user.slice/user-1000.slice/session-3.scope",
            "session-3.scope",
            "/user.slice/user-1000.slice/session-3.scope",
        );
    }

    #[test]
    fn the_user_manager_is_the_unit_of_what_it_runs() {
        check(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-1.scope",
            "user@1000.service",
            "/user.slice/user-1000.slice/user@1000.service",
        );
    }

    #[test]
    fn nspawn_as_a_service_keeps_its_unit_name() {
        check(
            "/machine.slice/systemd-nspawn@web.service/payload/system.slice/a.service",
            "systemd-nspawn@web.service",
            "/machine.slice/systemd-nspawn@web.service",
        );
    }

    #[test]
    fn x2d_is_unescaped_in_the_name_not_the_cgroup() {
        check(
            "/system.slice/system-systemd\\x2dfsck.slice/systemd-fsck@dev-disk-by\\x2duuid-1234.service",
            "systemd-fsck@dev-disk-by-uuid-1234.service",
            "/system.slice/system-systemd\\x2dfsck.slice/systemd-fsck@dev-disk-by\\x2duuid-1234.service",
        );
    }

    #[test]
    fn a_leading_underscore_is_systemds_escape() {
        check(
            "/system.slice/_cpu.service",
            "cpu.service",
            "/system.slice/_cpu.service",
        );
    }

    #[test]
    fn no_unit_outside_units() {
        for path in [
            "/",
            "",
            "//",
            "/user.slice",
            "/user.slice/user-1000.slice",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice",
            // not systemd's: no unit type, or not one that has a cgroup of its own
            "/process_api/60d4eb525ff5499ba02b3d7df63d8a8a",
            "/user/1000.user/1.session",
            "/system.slice/foo.bar",
            "/system.slice/.service",
            "/system.slice/foo@.service",
            "/system.slice/@foo.service",
            "/system.slice/a@b@c.service",
            "/system.slice/bad name.service",
            "/system.slice/caf\u{e9}.service",
            // seen from another cgroup namespace
            "/../../system.slice/cron.service",
            "/system.slice/./cron.service",
        ] {
            assert_eq!(unit(path), None, "{path}");
        }
        assert_eq!(unit_of(b"/system.slice/\xff.service"), None);
        assert_eq!(unit_of(b"/system.slice/a.service\n"), None);
    }

    #[test]
    fn a_unit_deeper_than_the_first_is_not_taken() {
        // systemd takes the first non-slice component, whatever is below it.
        check(
            "/system.slice/docker.service/BestEffort.slice/x",
            "docker.service",
            "/system.slice/docker.service",
        );
    }

    #[test]
    fn a_long_name_is_refused() {
        let long = format!("/system.slice/{}.service", "a".repeat(250));
        assert_eq!(unit(&long), None);
        let fits = format!("/system.slice/{}.service", "a".repeat(247));
        assert!(unit(&fits).is_some());
    }

    // --- unit_of: containers -----------------------------------------------------------------

    #[test]
    fn docker_with_the_systemd_driver() {
        let path = format!("/system.slice/docker-{ID}.scope");
        check(&path, "docker 3f2a1b4c5d6e", &path);
    }

    #[test]
    fn docker_with_the_cgroupfs_driver() {
        let path = format!("/docker/{ID}");
        check(&path, "docker 3f2a1b4c5d6e", &path);
        check(
            &format!("/docker/{ID}/kubepods/besteffort/pod1/x"),
            "docker 3f2a1b4c5d6e",
            &path,
        );
        // Not an id: no container, and `docker` is no unit.
        assert_eq!(named("/docker/BestEffort"), None);
    }

    #[test]
    fn podman() {
        let path = format!("/machine.slice/libpod-{ID}.scope");
        check(&format!("{path}/container"), "podman 3f2a1b4c5d6e", &path);
        let rootless =
            format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope");
        check(&rootless, "podman 3f2a1b4c5d6e", &rootless);
        let cgroupfs = format!("/libpod_parent/libpod-{ID}");
        check(&cgroupfs, "podman 3f2a1b4c5d6e", &cgroupfs);
        // conmon's scope holds no id: the unit rule names it.
        let conmon = format!("/machine.slice/libpod-conmon-{ID}.scope");
        check(&conmon, &format!("libpod-conmon-{ID}.scope"), &conmon);
    }

    #[test]
    fn kubernetes_with_the_systemd_driver() {
        let pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod90d8_92de.slice";
        check(
            &format!("{pod}/cri-containerd-{ID}.scope"),
            "containerd 3f2a1b4c5d6e",
            &format!("{pod}/cri-containerd-{ID}.scope"),
        );
        check(
            &format!("{pod}/crio-{ID}.scope"),
            "cri-o 3f2a1b4c5d6e",
            &format!("{pod}/crio-{ID}.scope"),
        );
        check(
            &format!("{pod}/docker-{ID}.scope"),
            "docker 3f2a1b4c5d6e",
            &format!("{pod}/docker-{ID}.scope"),
        );
        assert_eq!(
            named(&format!("{pod}/crio-conmon-{ID}.scope")),
            Some(format!("crio-conmon-{ID}.scope"))
        );
    }

    #[test]
    fn containerds_colon_form_on_v1() {
        let path = format!(
            "/system.slice/containerd.service/kubepods-besteffort-pod2105_7471.slice:cri-containerd:{ID}"
        );
        check(&path, "containerd 3f2a1b4c5d6e", &path);
        let bare = format!("/kubepods-besteffort-pod2105_7471.slice:cri-containerd:{ID}");
        check(&bare, "containerd 3f2a1b4c5d6e", &bare);
        assert_eq!(named("/x.slice:cri-containerd:nothex"), None);
        assert_eq!(named(&format!("/x.slice:other:{ID}")), None);
    }

    #[test]
    fn kubernetes_with_the_cgroupfs_driver() {
        let pod = "/kubepods/burstable/pod98051bd2-a5fa-11e8-9bb9-0a58ac1f31f2";
        check(
            &format!("{pod}/{ID}"),
            "k8s 3f2a1b4c5d6e",
            &format!("{pod}/{ID}"),
        );
        // Guaranteed pods sit right under kubepods.
        check(
            &format!("/kubepods/pod1/{ID}"),
            "k8s 3f2a1b4c5d6e",
            &format!("/kubepods/pod1/{ID}"),
        );
        // The pod itself, like a slice, is no unit.
        assert_eq!(named(pod), None);
        assert_eq!(named("/kubepods/burstable"), None);
    }

    #[test]
    fn lxc_and_lxd() {
        check(
            "/lxc.payload.buster/system.slice/networking.service",
            "lxc buster",
            "/lxc.payload.buster",
        );
        check(
            "/lxc.payload/example/init.scope",
            "lxc example",
            "/lxc.payload/example",
        );
        check("/lxc/p1", "lxc p1", "/lxc/p1");
        check("/lxc/debian2/init.scope", "lxc debian2", "/lxc/debian2");
        check(
            "/lxc.monitor/example",
            "lxc monitor example",
            "/lxc.monitor/example",
        );
        check(
            "/lxc.monitor.buster",
            "lxc monitor buster",
            "/lxc.monitor.buster",
        );
        assert_eq!(named("/lxc"), None);
        assert_eq!(named("/lxc.payload"), None);
        assert_eq!(named("/lxcfoo/x"), None);
    }

    #[test]
    fn machined_machines() {
        check(
            "/machine.slice/machine-nspawntest.scope",
            "machine nspawntest",
            "/machine.slice/machine-nspawntest.scope",
        );
        check(
            "/machine.slice/machine-qemu\\x2d7\\x2dtestmmkvm1.scope/emulator",
            "machine qemu-7-testmmkvm1",
            "/machine.slice/machine-qemu\\x2d7\\x2dtestmmkvm1.scope",
        );
        // A podman pod's slice is a slice, not a machine.
        let pod = format!("/machine.slice/machine-libpod_pod_{ID}.slice/libpod-{ID}.scope");
        assert_eq!(named(&pod), Some("podman 3f2a1b4c5d6e".to_owned()));
    }

    #[test]
    fn the_outermost_container_wins() {
        check(
            &format!("/lxc.payload.c1/system.slice/docker-{ID}.scope"),
            "lxc c1",
            "/lxc.payload.c1",
        );
        // ... and a container beats the unit above it.
        let path = format!(
            "/user.slice/user-0.slice/user@0.service/machine.slice/libpod-{ID}.scope/container"
        );
        assert_eq!(named(&path), Some("podman 3f2a1b4c5d6e".to_owned()));
    }

    #[test]
    fn a_short_or_odd_id_is_no_container() {
        assert_eq!(
            named("/system.slice/docker-abc.scope"),
            Some("docker-abc.scope".to_owned())
        );
        assert_eq!(named("/docker/3f2a1b4c5d6"), None);
        assert_eq!(named("/docker/3f2a1b4c5d6g7f80"), None);
    }

    #[test]
    fn hostile_paths_do_not_panic() {
        let cases: [&[u8]; 12] = [
            b"/",
            b"/docker",
            b"/docker/",
            b"/kubepods",
            b"/kubepods/burstable",
            b"/kubepods/burstable/pod",
            b"/lxc.payload.",
            b"/machine-.scope",
            b"/:::",
            b"/a:b",
            b"\xff/\xfe\\x2",
            b"/system.slice/x\\x2",
        ];
        for path in cases {
            let _ = unit_of(path);
        }
        assert_eq!(
            unit_of(b"/system.slice/x\\x2.service").map(|u| u.name),
            Some(b"x\\x2.service".to_vec())
        );
    }
}
