//! What a run holds in memory: the process's allocator counts every allocation against the
//! thread that made it (and every free against the thread that made that), so a run can be
//! stopped when it has grown by more than `[limits] max_memory_mb` since it began, whatever
//! holds the memory — strings captured by closures included, which Rhai's size limits do not
//! see.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting per thread.
pub struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    // During a thread's teardown the counter may be gone: nothing to count then.
    let _ = HELD.try_with(|held| held.set(held.get().wrapping_add(bytes)));
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

// SAFETY: every call is passed on to the system allocator unchanged; counting touches only a
// thread-local integer and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add(size(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(size(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        add(-size(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            add(size(new_size) - size(layout.size()));
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes the current thread holds: what it allocated minus what it freed.
pub fn held() -> isize {
    HELD.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threads_allocations_are_counted_and_its_frees_subtracted() {
        let before = held();
        let big = vec![0u8; 10 * 1024 * 1024];
        let during = held();
        assert!(during - before >= 10 * 1024 * 1024, "{before} → {during}");
        drop(big);
        assert!(held() - before < 1024 * 1024, "freed again");
    }
}
