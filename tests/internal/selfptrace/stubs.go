package selfptrace

// Assembly, see handler_$GOARCH.s.

// runSeq runs n ops starting at ops (see Op).
//
//go:noescape
func runSeq(ops *Op, n uintptr)

// Entry points that the kernel or other assembly enters; they are never
// called from Go (their Go declarations only let go vet check them).
func sigsysHandler()
func sigreturnTramp()
func usr1Handler()
func armHandler()
func sysSite()
func performSite()

// Their addresses.
func handlerPC() uintptr
func restorerPC() uintptr
func usr1HandlerPC() uintptr
func armHandlerPC() uintptr
func sysSitePC() uintptr
func performSitePC() uintptr
