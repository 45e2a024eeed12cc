package selfptrace

// arm64-only assembly, see handler_arm64.s.
func sysSiteImm()
func sysSiteImmPC() uintptr

var (
	// SvcImmSitePC is the "svc #0x40" instruction used by OpSvcImm: arm64
	// takes the number from x8, never from the immediate.
	SvcImmSitePC = sysSiteImmPC()
	// OldRestorerPC: arm64 has no non-RT sigreturn.
	OldRestorerPC uintptr
)
