# trapeze: `make` builds build/trapeze; `make test` installs what is missing,
# builds and runs every test; `make run` boots the default guest.
#
# Every .c file under cpu/ mmu/ devices/ bios/ vmm/ is part of the emulator
# library; frontend/ holds main(). Each tests/unit/test_*.c is a libcheck
# program linked against the library built with ASan and UBSan.

BUILD ?= build
CC ?= gcc
PKG_CONFIG ?= pkg-config

WARN := -Wall -Wextra -Werror
CFLAGS_BASE := -std=gnu11 -g $(WARN) -MMD -MP -I. -D_GNU_SOURCE
OPT ?= -O2
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS := -lZydis -lpthread -lm -lz
CJSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
CJSON_LIBS = $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
# The window (frontend/display_sdl.c): SDL2, libpng, FreeType.
UI_CFLAGS = $(shell $(PKG_CONFIG) --cflags sdl2 libpng freetype2)
UI_LIBS = $(shell $(PKG_CONFIG) --libs sdl2 libpng freetype2)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

LIB_SRC := $(sort $(wildcard cpu/*.c mmu/*.c devices/*.c bios/*.c vmm/*.c))
FE_SRC := $(sort $(wildcard frontend/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_SUPPORT := $(sort $(filter-out $(TEST_SRC) tests/unit/sst286.c,$(wildcard tests/unit/*.c)))

OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
FE_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(FE_SRC))
SAN_OBJ := $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRC) $(TEST_SUPPORT))
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

SHELL := /bin/bash

# Quiet by default; `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
MSG := @true
else
Q := @
MSG := @printf '  %-6s %s\n'
endif

.PHONY: all deps test test-unit test-cli test-guests test-modes test-paravirt test-classify classify-report test-multi test-display test-batch test-slurm test-gdb test-snapshot test-sst286 test-seabios test-ide-boot test-linux images bench run clean format

all: $(BUILD)/trapeze

deps:
	@bash scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(MSG) CC $@
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) -c $< -o $@

$(BUILD)/obj/frontend/%.o: frontend/%.c
	@mkdir -p $(dir $@)
	$(MSG) CC $@
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) $(UI_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(MSG) CC $@
	$(Q)$(CC) $(CFLAGS_BASE) -O1 $(SAN) $(CHECK_CFLAGS) -c $< -o $@

$(BUILD)/libtrapeze.a: $(OBJ)
	@rm -f $@
	$(MSG) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/libtrapeze-san.a: $(SAN_OBJ)
	@rm -f $@
	$(MSG) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/trapeze: $(FE_OBJ) $(BUILD)/libtrapeze.a
	$(MSG) LD $@
	$(Q)$(CC) $(OPT) -o $@ $(FE_OBJ) -Wl,--whole-archive $(BUILD)/libtrapeze.a -Wl,--no-whole-archive $(LIBS) $(CJSON_LIBS) $(UI_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtrapeze-san.a
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(CFLAGS_BASE) -O1 $(SAN) $(CHECK_CFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libtrapeze-san.a -Wl,--no-whole-archive $(CHECK_LIBS) $(LIBS)

# Every test suite runs even when an earlier one fails (--keep-going), so one
# `make test` shows every failure; it fails if any suite failed.
test: deps
	@$(MAKE) --no-print-directory --keep-going test-unit test-cli test-guests test-modes test-paravirt test-classify test-multi test-batch test-slurm test-gdb test-snapshot \
	  test-sst286 test-seabios test-ide-boot test-linux test-display

test-unit: $(TEST_BIN)
	@bash scripts/run-unit-tests.sh $(TEST_BIN)

test-cli: $(BUILD)/trapeze
	@bash tests/test-cli.sh $(BUILD)

test-guests: $(BUILD)/trapeze
	@bash tests/run-guests.sh $(BUILD)

# --mode emulate|trap|vmm on the bare-metal guests (tests/test-modes.sh).
test-modes: $(BUILD)/trapeze
	@bash tests/test-modes.sh $(BUILD)

# --mode paravirt: the hypercall interface with tests/guests/pv/pv_kernel.asm.
test-paravirt: $(BUILD)/trapeze
	@bash tests/test-paravirt.sh $(BUILD)

# The classification suite (tests/classify/run-suite.py): the critical and
# privileged guests in every mode, the pv kernel; docs/classification.md is
# what they saw. classify-report rewrites it; test-classify fails when the
# regenerated text differs from the checked-in file, or an expectation fails.
classify-report: $(BUILD)/trapeze
	@python3 tests/classify/run-suite.py --trapeze $(BUILD)/trapeze --build $(BUILD) \
	  --write docs/classification.md

test-classify: $(BUILD)/trapeze
	@python3 tests/classify/run-suite.py --trapeze $(BUILD)/trapeze --build $(BUILD) \
	  --check docs/classification.md

# Several VMs in one process: --vm, --config, --threads (tests/test-multi.sh).
test-multi: $(BUILD)/trapeze
	@bash tests/test-multi.sh $(BUILD)

# The window under Xvfb: a Linux terminal tile and a VGA guest, keys by xdotool
test-display: images $(BUILD)/trapeze
	@bash tests/display/run-display-test.sh $(BUILD)

# trapeze batch: job files, JSON lines, expectations, slices, the Slurm array
# script run by hand (tests/test-batch.sh).
test-batch: $(BUILD)/trapeze
	@bash tests/test-batch.sh $(BUILD)

# The GDB stub driven by Debian's gdb (tests/test-gdb.sh).
test-gdb: $(BUILD)/trapeze
	@bash tests/test-gdb.sh $(BUILD)

# Snapshots: save at N instructions, resume in a new process, compare with
# the uninterrupted run; damaged files (tests/test-snapshot.sh). Needs the
# Linux images.
test-snapshot: images $(BUILD)/trapeze
	@bash tests/test-snapshot.sh $(BUILD)

# The Slurm integration on a single-node cluster of this machine (private
# munged, slurmctld, slurmd): installs Debian's slurm-wlm when missing.
test-slurm: $(BUILD)/trapeze
	@bash scripts/install-slurm.sh
	@bash tests/test-slurm.sh $(BUILD)

# Debian's SeaBIOS boots headless to "No bootable device" (firmware path).
test-seabios: $(BUILD)/trapeze
	@bash tests/test-seabios.sh $(BUILD)

SST286_DIR ?= ../shared/sst286
test-sst286: $(BUILD)/tests/sst286
	@if [ -d "$(SST286_DIR)" ]; then $(BUILD)/tests/sst286 $(SST286_DIR); \
	else echo "test-sst286: no 80286 test data at $(SST286_DIR) (set SST286_DIR): not run"; fi

# The 80286 single-step suite runner: its own main (not libcheck), zlib.
$(BUILD)/tests/sst286: tests/unit/sst286.c $(BUILD)/libtrapeze-san.a
	@mkdir -p $(dir $@)
	$(MSG) LD $@
	$(Q)$(CC) $(CFLAGS_BASE) -O1 $(SAN) -o $@ $< -Wl,--whole-archive $(BUILD)/libtrapeze-san.a -Wl,--no-whole-archive $(LIBS) -lz

# SeaBIOS boots the guest images over IDE: the ISO (El Torito) and the disk.
test-ide-boot: images $(BUILD)/trapeze
	@bash tests/test-ide-boot.sh $(BUILD)

# Linux guest images from Debian's i386 packages (fetched with apt-get
# download, never installed), and the Linux boot test on them.
images: deps
	@bash scripts/build-guest-images.sh $(BUILD)/images >/dev/null

# Linux to the same shell session four ways: direct boot (Linux boot
# protocol), through SeaBIOS from the ISO and from the hard-disk image (a
# copy: the disk is written back), and direct boot in vmm mode (ring
# compression, critical instructions routed to the VMM, shadow paging); Linux
# in trap mode diverging; four VMs at once, one per mode (tests/test-four-vms.sh).
test-linux: images $(BUILD)/trapeze
	@python3 tests/linux/boot-test.py --trapeze $(BUILD)/trapeze \
	  --kernel $(BUILD)/images/vmlinuz --initrd $(BUILD)/images/initramfs.cpio.gz \
	  --log $(BUILD)/linux-boot.log
	@python3 tests/linux/boot-test.py --trapeze $(BUILD)/trapeze \
	  --cdrom $(BUILD)/images/linux.iso --log $(BUILD)/linux-boot-cdrom.log
	@cp $(BUILD)/images/linux-hd.img $(BUILD)/linux-hd-test.img
	@python3 tests/linux/boot-test.py --trapeze $(BUILD)/trapeze \
	  --hda $(BUILD)/linux-hd-test.img --log $(BUILD)/linux-boot-hd.log
	@python3 tests/linux/boot-test.py --trapeze $(BUILD)/trapeze --mode vmm \
	  --kernel $(BUILD)/images/vmlinuz --initrd $(BUILD)/images/initramfs.cpio.gz \
	  --log $(BUILD)/linux-boot-vmm.log --report $(BUILD)/linux-boot-vmm.json
	@bash tests/linux/classify-live.sh $(BUILD)
	@bash tests/linux/trap-divergence.sh $(BUILD)
	@bash tests/test-four-vms.sh $(BUILD)

# Speed against QEMU (TCG) and Bochs: nanobenchmarks and the Linux guest
# (docs/performance.md). Never part of `make test`. BENCH_ARGS=--runs 5 ...
bench: images $(BUILD)/trapeze
	@bash scripts/install-bench-deps.sh
	@python3 scripts/bench.py --trapeze $(BUILD)/trapeze --images $(BUILD)/images --linux $(BENCH_ARGS)

run: deps $(BUILD)/trapeze
	@bash scripts/run-default.sh $(BUILD)

format:
	clang-format -i $(LIB_SRC) $(FE_SRC) $(wildcard cpu/*.h mmu/*.h devices/*.h bios/*.h vmm/*.h frontend/*.h)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/san -name '*.d' 2>/dev/null)
