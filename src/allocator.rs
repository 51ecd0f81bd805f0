//! The static musl build's heap: small blocks from dlmalloc, large ones from musl's malloc.
//!
//! musl's allocator (mallocng) gives pages back as soon as a group of small blocks is empty,
//! so a capture maps and unmaps dozens of small groups: in one `snapshot` about 45 `mmap`s and
//! 45 `munmap`s, each costing a page fault and a TLB flush. dlmalloc keeps freed small blocks
//! for reuse, which took a third of a millisecond off every capture (BENCHMARKS.md). Large
//! blocks (ps's output, the table, the report text) stay with musl, which maps each one on its
//! own, grows it in place with `mremap` and unmaps it when freed: the peak of a capture is not
//! raised, and its memory goes back to the system after it.
//!
//! The cost is what dlmalloc keeps: the idle daemon holds about 40 KiB more anonymous memory.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks up to this size come from dlmalloc. Above it musl's groups hold few blocks each
/// (one, from 64 KiB), and dlmalloc would keep large freed blocks resident.
pub const SMALL: usize = 16 * 1024;

pub struct SmallFromDlmalloc;

static DLMALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn is_small(size: usize) -> bool {
    size <= SMALL
}

// SAFETY: every block is freed (or grown) by the allocator that made it. GlobalAlloc promises
// `dealloc` and `realloc` the layout the block was allocated with, and the size alone decides
// which allocator that was; a block that crosses SMALL on `realloc` is moved.
unsafe impl GlobalAlloc for SmallFromDlmalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_small(layout.size()) {
            // SAFETY: the caller's promises about `layout` are passed on unchanged.
            unsafe { DLMALLOC.alloc(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_small(layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { DLMALLOC.alloc_zeroed(layout) }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_small(layout.size()) {
            // SAFETY: a small layout's block came from dlmalloc (see the impl's comment).
            unsafe { DLMALLOC.dealloc(ptr, layout) }
        } else {
            // SAFETY: a large layout's block came from musl.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (is_small(layout.size()), is_small(new_size)) {
            // SAFETY: the block stays with the allocator that made it.
            (true, true) => unsafe { DLMALLOC.realloc(ptr, layout, new_size) },
            // SAFETY: as above.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: GlobalAlloc::realloc's contract makes `new_size` with the old
                // alignment a valid layout.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: a non-zero size, as realloc's contract requires of `new_size`.
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    // SAFETY: both blocks are live, distinct, and at least this long.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grows and shrinks one block through sizes on both sides of SMALL; its bytes survive.
    fn walk(sizes: &[usize]) {
        let a = SmallFromDlmalloc;
        let first = sizes[0];
        let layout = Layout::from_size_align(first, 8).unwrap();
        // SAFETY: the test keeps to GlobalAlloc's contract: non-zero sizes, the same alignment,
        // each realloc given the block's current layout, and the last layout freed.
        unsafe {
            let mut ptr = a.alloc(layout);
            assert!(!ptr.is_null());
            for i in 0..first {
                *ptr.add(i) = i as u8;
            }
            let mut size = first;
            let mut kept = first;
            for &next in &sizes[1..] {
                ptr = a.realloc(ptr, Layout::from_size_align(size, 8).unwrap(), next);
                assert!(!ptr.is_null());
                kept = kept.min(next);
                for i in 0..kept {
                    assert_eq!(*ptr.add(i), i as u8, "byte {i} after {size} -> {next}");
                }
                size = next;
            }
            a.dealloc(ptr, Layout::from_size_align(size, 8).unwrap());
        }
    }

    #[test]
    fn blocks_keep_their_bytes_across_the_boundary() {
        walk(&[100, SMALL, SMALL + 1, 1 << 20, SMALL, 10, 3 * SMALL, 64]);
        walk(&[SMALL + 1, SMALL - 1, SMALL + 1]);
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides() {
        let a = SmallFromDlmalloc;
        for size in [1, SMALL, SMALL + 1, 1 << 20] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            // SAFETY: a non-zero layout, freed with the same layout.
            unsafe {
                let ptr = a.alloc_zeroed(layout);
                assert!(!ptr.is_null());
                assert_eq!(ptr as usize % 64, 0, "aligned as asked");
                assert!((0..size).all(|i| *ptr.add(i) == 0));
                a.dealloc(ptr, layout);
            }
        }
    }
}
