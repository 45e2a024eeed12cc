package selfptrace

// s390x-only assembly, see handler_s390x.s.
func sysSiteImm()
func sigreturnTrampOld()
func sysSiteImmPC() uintptr
func oldRestorerPC() uintptr

var (
	// SvcImmSitePC is the "svc 20" instruction used by OpSvcImm.
	SvcImmSitePC = sysSiteImmPC()
	// OldRestorerPC is a sigreturn (119) trampoline, the sa_restorer of
	// handlers installed without SA_SIGINFO.
	OldRestorerPC = oldRestorerPC()
)
