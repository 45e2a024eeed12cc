package bench_test

// resultRegOffset is offsetof(struct user, regs.rax): where a PTRACE_SYSEMU
// tracer writes the emulated call's result.
const resultRegOffset = 10 * 8

// emulationNA is empty: x86_64's PTRACE_SYSEMU tracer sets the result in
// rax at the entry stop.
const emulationNA = ""
