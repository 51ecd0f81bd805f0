//! The entries waiting for the hook while it runs: a few, the newest kept. An OOM storm writes
//! entries faster than any hook can send them; holding them all would take memory from a
//! machine that has none, and the newest say the most.

use std::collections::VecDeque;

/// How many entries wait while the hook runs; beyond this the oldest are dropped.
pub const WAITING_AT_MOST: usize = 16;

/// One run of the hook: what it is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The entry as incidents.log holds it.
    pub text: String,
    /// `MEMORY_MONITOR_*` and their values.
    pub env: Vec<(&'static str, String)>,
    /// How the daemon's messages name the entry: `the report of incident 3`.
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Queue {
    jobs: VecDeque<Job>,
    /// Dropped since the last job was taken.
    dropped: u64,
}

impl Queue {
    /// Adds `job`, dropping the oldest waiting one when [`WAITING_AT_MOST`] wait already.
    pub fn push(&mut self, job: Job) {
        if self.jobs.len() >= WAITING_AT_MOST {
            self.jobs.pop_front();
            self.dropped += 1;
        }
        self.jobs.push_back(job);
    }

    /// The oldest job, and how many were dropped since the last one was taken: that run is
    /// told so.
    pub fn take(&mut self) -> Option<(Job, u64)> {
        let job = self.jobs.pop_front()?;
        Some((job, std::mem::take(&mut self.dropped)))
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: usize) -> Job {
        Job {
            text: format!("entry {n}\n"),
            env: Vec::new(),
            what: format!("entry {n}"),
        }
    }

    #[test]
    fn a_storm_keeps_the_newest_and_counts_the_rest_once() {
        let mut queue = Queue::default();
        for n in 1..=100 {
            queue.push(job(n));
        }
        assert_eq!(queue.len(), WAITING_AT_MOST);
        let (first, dropped) = queue.take().unwrap();
        assert_eq!(first.text, "entry 85\n");
        assert_eq!(dropped, 84);
        let (second, dropped) = queue.take().unwrap();
        assert_eq!(second.text, "entry 86\n");
        assert_eq!(dropped, 0, "said once, to the next run only");
        queue.push(job(101));
        let taken: Vec<String> = std::iter::from_fn(|| queue.take())
            .map(|(job, _)| job.text)
            .collect();
        assert_eq!(taken.len(), 15);
        assert_eq!(taken.last().map(String::as_str), Some("entry 101\n"));
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn nothing_is_dropped_below_the_limit() {
        let mut queue = Queue::default();
        for n in 1..=WAITING_AT_MOST {
            queue.push(job(n));
        }
        assert_eq!(
            queue.take().map(|(job, dropped)| (job.what, dropped)),
            Some(("entry 1".into(), 0))
        );
    }
}
