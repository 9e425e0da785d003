# Quire — build, run, test.
#
#   make            kernel/kernel, fs.img, mkfs/mkfs, mkfs/fsck
#   make qemu       boot Quire in QEMU (CPUS=1..4, default 3); quit with Ctrl-a x
#   make qemu-gdb   the same, stopped at the first instruction, for gdb-multiarch
#   make test       every test: host tests and tests that boot Quire in QEMU
#   make grade      the graded tests, one line each with points, then the score
#                   (LAB=writeback: one lab's; T="expr": pytest's -k selection)
#   make bench      benchmarks, printed as a table of figures
#   make profile    where the kernel's time goes while a command runs
#                   (CMD='bigfile 64'; default: a 64 MiB write + fsync)
#   make handin     the lab's committed hand-in files as handin-LAB.tar.gz
#                   (LAB: by default the lab of the starter), for upload to Gradescope
#   make crashstate LAB=crash STATE='...'   boot Quire on a crash state that a
#                   failed crash-lab test named
#   make starter LAB=writeback DEST=dir   the student tree of a lab (staff)
#   make gradescope LAB=writeback   the Gradescope autograder zip (staff)
#   make deps       install the Debian/Ubuntu packages the build needs
#   make clean
#
# The tools are checked before they are used: when one is missing, `make qemu`
# and `make test` install it through `make deps` (on Debian and Ubuntu) or
# print the exact command to run.

.DEFAULT_GOAL := all

K := kernel
U := user
CPUS ?= 3
MEM ?= 128M
FSIMG_MB ?= 128

# ---------------------------------------------------------------- toolchain

# The tools: the first RISC-V cross compiler prefix (of TOOLPREFIXES) with
# a gcc on PATH, QEMU, and the first Python (of PYTHONS) that can import
# pytest (a pyenv python3 early on PATH often cannot; Debian's
# /usr/bin/python3 can).  Looking for them takes a dozen process starts,
# and `make qemu` runs hundreds of times a term, so what was found is kept
# in .tools.mk (see "tool checks" below) and looked for again only when
# PATH changes, a tool found last time is gone or replaced, or a command
# needs a tool that was missing.
TOOLPREFIXES := riscv64-unknown-elf- riscv64-linux-gnu- riscv64-elf- riscv64-unknown-linux-gnu-
PYTHONS := python3 /usr/bin/python3 /usr/local/bin/python3
QEMU ?= qemu-system-riscv64
HOSTCC ?= gcc

# Debian/Ubuntu packages for everything: build, boot, debug, test, pictures.
DEB_PACKAGES := make gcc libc6-dev gcc-riscv64-unknown-elf qemu-system-misc \
                gdb-multiarch python3 python3-pytest python3-pytest-xdist python3-matplotlib

# What the command line's goals need: cc to build, qemu to boot, python to
# test.  Goals that need none of them read no tool stamp.
TOOLFREE_GOALS := clean deps starter handin gradescope
NEED := $(strip cc \
  $(if $(filter qemu qemu-gdb test run-tests grade bench profile crashstate,$(MAKECMDGOALS)),qemu) \
  $(if $(filter test run-tests grade bench profile crashstate,$(MAKECMDGOALS)),python))
TOOLS_MK := .tools.mk
ifneq ($(or $(filter-out $(TOOLFREE_GOALS),$(MAKECMDGOALS)),$(if $(MAKECMDGOALS),,all)),)
include $(TOOLS_MK)
endif

CC      = $(TOOLPREFIX)gcc
AS      = $(TOOLPREFIX)as
LD      = $(TOOLPREFIX)ld
OBJCOPY = $(TOOLPREFIX)objcopy
OBJDUMP = $(TOOLPREFIX)objdump

# No floating point anywhere: the kernel never saves FP registers, and user
# programs run with the FPU off.  gcc 12 needs zicsr/zifencei named; older
# compilers reject the names, so the tool check probes for them (ARCH).

COMMON_CFLAGS = -Wall -Werror -O2 -fno-omit-frame-pointer -ggdb -gdwarf-4 \
  -march=$(ARCH) -mabi=lp64 -mcmodel=medany -mno-relax \
  -ffreestanding -fno-common -nostdlib -fno-builtin -fno-stack-protector \
  -fno-pie -no-pie -MD -MP

CFLAGS = $(COMMON_CFLAGS) -I$(K) -I. $(if $(STARTER),-DLAB_STARTER)
LDFLAGS = -z max-page-size=4096 --no-warn-rwx-segments

# ---------------------------------------------------------------- kernel

KSRCS := $(sort $(wildcard $(K)/*.c $(K)/*/*.c))
KASMS := $(sort $(wildcard $(K)/*.S $(K)/*/*.S))
# entry.S must come first: the linker script puts its code at 0x80000000.
KOBJS := $(K)/boot/entry.o $(filter-out $(K)/boot/entry.o,$(KASMS:.S=.o) $(KSRCS:.c=.o))

$(K)/kernel: $(KOBJS) $(K)/kernel.ld
	$(LD) $(LDFLAGS) -T $(K)/kernel.ld -o $@ $(KOBJS)
	$(OBJDUMP) -S $@ > $(K)/kernel.asm
	$(OBJDUMP) -t $@ | sed '1,/SYMBOL TABLE/d; s/ .* / /; /^$$/d' > $(K)/kernel.sym

$(K)/%.o: $(K)/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(K)/%.o: $(K)/%.S
	$(CC) $(CFLAGS) -c -o $@ $<

# ---------------------------------------------------------------- user

ULIBSRCS := $(sort $(wildcard $(U)/lib/*.c))
ULIBASMS := $(sort $(wildcard $(U)/lib/*.S))
ULIBOBJS := $(ULIBASMS:.S=.o) $(ULIBSRCS:.c=.o)
UPROGS   := $(patsubst $(U)/%.c,$(U)/_%,$(sort $(wildcard $(U)/*.c)))

UCFLAGS = $(COMMON_CFLAGS) -I. -I$(U)

$(U)/%.o: $(U)/%.c
	$(CC) $(UCFLAGS) -c -o $@ $<

$(U)/%.o: $(U)/%.S
	$(CC) $(UCFLAGS) -c -o $@ $<

$(U)/_%: $(U)/%.o $(ULIBOBJS) $(U)/user.ld
	$(LD) $(LDFLAGS) -T $(U)/user.ld -o $@ $< $(ULIBOBJS)

.PRECIOUS: $(U)/%.o

# ---------------------------------------------------------------- host tools

HOSTCFLAGS = -Wall -Werror -O2 -g -I$(K)

mkfs/mkfs: mkfs/mkfs.c $(wildcard mkfs/fsutil.[ch]) $(K)/uapi/fs.h
	$(HOSTCC) $(HOSTCFLAGS) -o $@ mkfs/mkfs.c $(wildcard mkfs/fsutil.c)

mkfs/fsck: mkfs/fsck.c $(wildcard mkfs/fsutil.[ch]) $(K)/uapi/fs.h
	$(HOSTCC) $(HOSTCFLAGS) -o $@ mkfs/fsck.c $(wildcard mkfs/fsutil.c)

# The files copied into the root directory of fs.img: README.md becomes
# /README, user/_cat becomes /cat.
FSFILES := README.md $(UPROGS)

fs.img: mkfs/mkfs $(FSFILES)
	mkfs/mkfs -s $(FSIMG_MB) $@ README=README.md $(UPROGS)

# ---------------------------------------------------------------- running

QEMUDRIVE = -drive file=fs.img,if=none,format=raw,id=disk0 \
            -device virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0
QEMUOPTS = -machine virt,aclint=on -bios none -kernel $(K)/kernel -m $(MEM) -smp $(CPUS) \
           -nographic -global virtio-mmio.force-legacy=false $(QEMUDRIVE)

# A gdb port of one's own, so that users sharing a machine do not collide.
GDBPORT = $(shell expr `id -u` % 5000 + 25000)

all: $(K)/kernel fs.img mkfs/fsck

# The tools were checked when .tools.mk was read (see "tool checks").
qemu: $(K)/kernel fs.img
	$(QEMU) $(QEMUOPTS)

.gdbinit: $(K)/gdbinit.tmpl
	sed "s/:1234/:$(GDBPORT)/" < $< > $@

qemu-gdb: $(K)/kernel fs.img .gdbinit
	@echo "*** QEMU is waiting for gdb on port $(GDBPORT).  In another window, run:" 1>&2
	@echo "***   gdb-multiarch -x .gdbinit" 1>&2
	$(QEMU) $(QEMUOPTS) -S -gdb tcp::$(GDBPORT)

# ---------------------------------------------------------------- tests

PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

# Two pytest workers where pytest-xdist is installed, each test file on
# one (grade.py's parallel_args(); QUIRE_GRADE_JOBS=1 runs them in turn).
PYTEST_JOBS = $$($(PYTHON) -c 'import sys; sys.path[:0] = ["grade"]; \
  import grade; print(*grade.parallel_args())')

test: all
	$(PYTEST) $(PYTEST_JOBS) grade

run-tests:
	$(PYTEST) $(PYTEST_JOBS) grade

grade: all
	$(PYTHON) grade/grade.py $(if $(LAB),--lab $(LAB)) $(if $(T),-k "$(T)")

bench: all
	$(PYTHON) grade/bench.py

profile: all
	$(PYTHON) grade/profile.py --cpus $(CPUS) --mem $(MEM) --cmd "$(CMD)"

# The disk of one crash state of the crash lab's last run (grade/
# crashstate.py rebuilds it), booted with the current kernel.
CRASHIMG = grade/results/crash-lab/state.img
crashstate: $(K)/kernel
	@$(PYTHON) grade/crashstate.py --lab "$(or $(LAB),crash)" --state "$(STATE)" -o $(CRASHIMG)
	$(QEMU) $(subst file=fs.img,file=$(CRASHIMG),$(QEMUOPTS))

# ---------------------------------------------------------------- labs

# labs/README.md: the student tree of a lab, a student's hand-in, and the
# Gradescope autograder.  starter and gradescope need the solution tree,
# which a student's tree is not: it has no labs/mkstarter.py.
LABPYTHON = $(or $(PYTHON),python3)
STAFFONLY = echo "make $@ works only in the course staff's solution tree;" \
  "this is a student's tree (it has no labs/mkstarter.py)."; exit 1

starter:
	@test -f labs/mkstarter.py || { $(STAFFONLY); }
	@$(LABPYTHON) labs/mkstarter.py --lab "$(LAB)" "$(DEST)"

handin:
	@$(LABPYTHON) labs/handin.py $(if $(LAB),--lab "$(LAB)")

gradescope:
	@test -f labs/mkgradescope.py || { $(STAFFONLY); }
	@$(LABPYTHON) labs/mkgradescope.py --lab "$(LAB)" $(if $(OUT),-o "$(OUT)")

# ---------------------------------------------------------------- tool checks

# .tools.mk records the tools that were found.  It is made again when PATH
# (or QEMU, or HOSTCC) has changed since, when a tool it names is gone or newer than it, or when
# the goals NEED a tool it lacks; make then reads the new one and starts
# over.  Making it installs what the goals need and lack through
# `make deps` (on Debian and Ubuntu), or says exactly what to install.
TOOLS_KEY_NOW := $(PATH)|$(QEMU)|$(HOSTCC)
TOOLS_STALE := $(filter-out $(wildcard $(TOOL_FILES)),$(TOOL_FILES)) \
               $(filter-out $(TOOLS_HAVE),$(NEED))
ifneq ($(TOOLS_KEY),$(TOOLS_KEY_NOW))
TOOLS_STALE += key
endif
ifneq ($(strip $(TOOLS_STALE)),)
$(TOOLS_MK): FORCE
endif

# find_tools sets prefix, python, qemu, have (the tools of cc qemu python
# that are there) and missing (what lacks, by package).
define find_tools
find_tools() { \
  prefix=""; for p in $(TOOLPREFIXES); do \
    if command -v "$${p}gcc" >/dev/null; then prefix=$$p; break; fi; done; \
  python=""; for p in $(PYTHONS); do \
    if $$p -c 'import pytest' 2>/dev/null; then python=$$p; break; fi; done; \
  qemu=$$(command -v $(QEMU) || true); have=""; missing=""; \
  if [ -n "$$prefix" ] && command -v $(HOSTCC) >/dev/null; then have="cc"; \
  else missing="gcc-riscv64-unknown-elf gcc"; fi; \
  if [ -n "$$qemu" ]; then have="$$have qemu"; else missing="$$missing qemu-system-misc"; fi; \
  if [ -n "$$python" ]; then have="$$have python"; else missing="$$missing python3-pytest"; fi; \
}
endef

# Fails when a tool the goals need is still missing, or QEMU is too old.
$(TOOLS_MK):
	@$(find_tools); find_tools; \
	for t in $(NEED); do case " $$have " in *" $$t "*) ;; *) lack=1;; esac; done; \
	if [ -n "$$lack" ]; then \
	  echo "Missing:$$missing.  Installing the packages Quire needs (make deps)."; \
	  $(MAKE) --no-print-directory deps || exit 1; find_tools; fi; \
	for t in $(NEED); do case " $$have " in *" $$t "*) ;; *) \
	  echo "Still missing: $$t.  Install the packages: $(DEB_PACKAGES)"; exit 1;; esac; done; \
	if [ -n "$$qemu" ]; then \
	  v=$$($$qemu --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p'); set -- $$v; \
	  if [ -z "$$1" ] || [ "$$1" -lt 7 ] || { [ "$$1" -eq 7 ] && [ "$$2" -lt 2 ]; }; then \
	    echo "$$qemu is version $$1.$$2; Quire needs QEMU 7.2 or later."; \
	    echo "On Debian 12 or Ubuntu 23.04 and later: sudo apt-get install qemu-system-misc"; \
	    case " $(NEED) " in *" qemu "*) exit 1;; esac; have=$$(echo $$have | sed 's/qemu//'); \
	  fi; fi; \
	arch=rv64imac; \
	if [ -n "$$prefix" ] && $${prefix}gcc -march=rv64imac_zicsr_zifencei -mabi=lp64 \
	     -E -x c /dev/null >/dev/null 2>&1; then arch=rv64imac_zicsr_zifencei; fi; \
	files=""; for f in $${prefix:+$${prefix}gcc} $$qemu $$python; do \
	  files="$$files $$(command -v $$f)"; done; \
	{ echo "# Made by make: the tools found (Makefile, tool checks).  Safe to delete."; \
	  echo 'TOOLS_KEY := $(TOOLS_KEY_NOW)'; echo "TOOLS_HAVE := $$have"; \
	  echo "TOOL_FILES :=$$files"; echo "TOOLPREFIX ?= $$prefix"; \
	  echo "PYTHON ?= $$python"; echo "ARCH := $$arch"; } > $@.tmp && mv $@.tmp $@

# For setup scripts: make check-tools NEED="cc qemu python" installs and
# checks, and does nothing else.
check-tools:
	@:

FORCE:

deps:
	@if ! command -v apt-get >/dev/null; then \
	  echo "This is not a Debian/Ubuntu system.  Install these, or your system's"; \
	  echo "equivalents, by hand: $(DEB_PACKAGES)"; exit 1; fi; \
	if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "Run as root: apt-get update && apt-get install -y $(DEB_PACKAGES)"; exit 1; fi; \
	echo "+ $$SUDO apt-get update"; \
	$$SUDO apt-get update -qq || exit 1; \
	echo "+ $$SUDO apt-get install -y $(DEB_PACKAGES)"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)

# ---------------------------------------------------------------- cleaning

clean:
	rm -f $(K)/kernel $(K)/kernel.asm $(K)/kernel.sym .gdbinit fs.img .tools.mk \
	  mkfs/mkfs mkfs/fsck $(U)/_* $(U)/initcode $(U)/initcode.out
	find $(K) $(U) -name '*.[od]' -delete
	rm -rf grade/__pycache__ grade/work

-include $(KOBJS:.o=.d) $(ULIBOBJS:.o=.d) $(UPROGS:$(U)/_%=$(U)/%.d)

.PHONY: all qemu qemu-gdb test run-tests grade bench profile check-tools deps clean FORCE \
        starter handin gradescope crashstate
