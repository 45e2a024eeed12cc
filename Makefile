# selfptrace-vm: build a self-ptrace kernel, boot it under QEMU, run the suite.
#
#   make deps              install the Debian packages the rig needs, and Go 1.26 if missing (as root)
#   make run [ARCH=s390x]  the main job: build, boot and test one arch (x86_64 by default; ARCH=all: four)
#   make test              what CI runs: deps, vet, unit tests, end-to-end on x86_64 and s390x
#   make e2e-port          the suite, the vanilla control and the userland on arm64 and riscv64
#   make clean-cache       remove the build cache (kernels, work trees, images)

# The go that go.mod wants: /usr/local/go's (make deps installs it there
# when the machine has none new enough), else the one on PATH. Evaluated
# when used, so after make deps.
GO      ?= $(firstword $(wildcard /usr/local/go/bin/go) go)
ARCH    ?= x86_64
# make test covers x86_64 and s390x end to end; the arm64 and riscv64 ports
# have their own target until every e2e test has passed on them (README).
E2E_ARCH ?= x86_64,s390x
PORT_ARCH ?= arm64,riscv64
# tests/ holds guest test packages: they are compiled for the guest by the rig
# and run inside the VM, never on the host.
HOST_PKGS = $$($(GO) list ./... | grep -v '/tests/')

DEB_PACKAGES := linux-source-6.12 make gcc gcc-s390x-linux-gnu libc6-dev-s390x-cross \
	gcc-i686-linux-gnu gcc-arm-linux-gnueabihf \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
	flex bison bc patch perl tar rsync xz-utils libelf-dev libssl-dev cpio \
	qemu-system-x86 qemu-system-misc qemu-system-arm opensbi gdb-multiarch git ca-certificates \
	python3-jsonschema lava-common mmdebstrap

# The LAVA end-to-end test needs a LAVA dispatcher; it has its own target.
LAVA_PACKAGES := lava-dispatcher lava-common

.PHONY: all deps run test vet unit e2e e2e-port e2e-lava e2e-gitbisect e2e-asis e2e-debug bench prefixes clean-cache

all: test

deps:
	@if [ "$$(id -u)" = 0 ]; then \
		missing=""; for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then \
			echo "installing:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
		else echo "deps: all Debian packages present"; fi; \
	else \
		echo "not root; install the dependencies with:"; \
		echo "  sudo apt-get install $(DEB_PACKAGES)"; \
	fi
	@if [ "$$(id -u)" = 0 ]; then tools/install-go.sh; else GO_DIR=$${GO_DIR:-/usr/local/go} tools/install-go.sh || echo "  then: sudo tools/install-go.sh"; fi

run: deps
	$(GO) run ./cmd/selfptrace-vm test --arch $(ARCH)

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags lava,gitbisect,debugprofile,asis ./e2e/
	for a in s390x arm64 riscv64; do \
		GOARCH=$$a CGO_ENABLED=0 $(GO) vet ./tests/... ./initramfs/runner/... && \
		GOARCH=$$a CGO_ENABLED=0 $(GO) vet -tags hostcheck ./tests/internal/selfptrace/ || exit 1; \
	done
	# The compat test programs are committed binaries, so that neither the
	# guest nor a test run needs their cross compilers; they must be exactly
	# what their sources build (the builds are reproducible).
	for a in amd64 s390x arm64 riscv64; do GOARCH=$$a $(GO) generate ./tests/selfptrace/ ./tests/sigsys/ || exit 1; done
	git diff --exit-code --stat -- 'tests/selfptrace/testdata/*-selfptrace' tests/sigsys/testdata/rv32-arch || \
		{ echo "tests/*/testdata: the committed compat programs are not what go generate builds from their sources: commit the regenerated ones"; exit 1; }
	# The kernel series as a maintainer checks it first: checkpatch.pl
	# --strict, kernel-doc -Wall, documentation within 100 columns.
	$(GO) test -count=1 -run TestSeriesStyle ./patches/

unit:
	$(GO) test -short -count=1 $(HOST_PKGS)

# End-to-end: real kernels, real QEMU, all four architectures.
# E2E_ARCH picks the architectures the end-to-end tests cover (a comma list
# or all), e.g. make e2e E2E_ARCH=riscv64 for one CI matrix job.
e2e:
	SELFPTRACE_VM_E2E_ARCH=$(E2E_ARCH) $(GO) test -count=1 -v -timeout 85m ./e2e/...

# The newer ports: the conformance suite, the vanilla negative control and
# the Debian userland (suite, vanilla, strace from run).
e2e-port: deps
	SELFPTRACE_VM_E2E_ARCH=$(PORT_ARCH) $(GO) test -count=1 -v -timeout 85m \
		-run '^(TestSuitePassesOnEveryArch|TestVanillaFailsEveryFeatureTest|TestUserlandSuite|TestRunInUserland)$$' ./e2e/

test: deps vet unit e2e

# LAVA: generate the job of every arch, run it with Debian's lava-run
# (offline, local qemu device), compare LAVA's results with `test`'s.
e2e-lava: deps
	@if [ "$$(id -u)" = 0 ]; then \
		missing=""; for p in $(LAVA_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi; \
	fi
	$(GO) test -tags lava -count=1 -v -timeout 85m -run 'TestLava' ./e2e/

# Semantic bisectability: every prefix of the series on every arch of
# PREFIX_ARCH, built incrementally and run (vanilla behaviour before the
# arch's feature patch, everything passing from it). An hour or more per
# arch: its own target.
PREFIX_ARCH ?= all
prefixes: deps
	$(GO) run ./cmd/selfptrace-vm prefixes --arch $(PREFIX_ARCH) --json out/prefixes.json

# --as-is on a kernel git tree with the series committed in it, on
# x86_64 and s390x: every arch builds that tree cold, so it has its own target.
ASIS_ARCH ?= x86_64,s390x
e2e-asis: deps
	SELFPTRACE_VM_E2E_ARCH=$(ASIS_ARCH) $(GO) test -tags asis -count=1 -v -timeout 170m -run 'TestAsIsTree' ./e2e/

# bisect as a `git bisect run` step on a kernel git tree: every step builds
# a kernel from scratch (in a temporary cache), so it has its own target.
e2e-gitbisect: deps
	$(GO) test -tags gitbisect -count=1 -v -timeout 85m -run 'TestGitBisect' ./e2e/

# The debug profile (lockdep, KASAN, UBSAN, DEBUG_ATOMIC_SLEEP, no stack
# initialisation, panic_on_warn): its instrumented kernels take several
# times longer to build and run, so it has its own target. DEBUG_ARCH picks
# the architectures (the RFC's two by default; all for every port).
DEBUG_ARCH ?= x86_64,s390x
e2e-debug: deps
	SELFPTRACE_VM_E2E_ARCH=$(DEBUG_ARCH) $(GO) test -tags debugprofile -count=1 -v -timeout 170m -run 'TestDebugProfile' ./e2e/

bench: deps
	$(GO) run ./cmd/selfptrace-vm bench --arch $(ARCH)

clean-cache:
	rm -rf "$${SELFPTRACE_VM_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/selfptrace-vm}"
