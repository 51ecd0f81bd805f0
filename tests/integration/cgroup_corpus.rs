//! TODO(helper B): cgroup, mountinfo and pressure corpora.
