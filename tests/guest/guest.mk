# Guest kernels: filled in by the guest build (adds to GUEST_ELFS).
