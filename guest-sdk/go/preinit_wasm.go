//go:build wasm

package weft

// Pre-initialization. `weft build` runs Go's runtime start-up and every package
// initializer once, at build time, and makes what they left in memory the module's initial
// state (runtime/wasm/src/preinit.rs in the Weft repository), so an instance starts
// initialized instead of spending a millisecond on it per step. What the program read from
// WASI while initializing would then be the same in every instance, and wrong at run time:
//
//   - Go's random state (map seeds, math/rand and math/rand/v2's global generators): the
//     runtime seeds it once at start-up and has no API to seed it again;
//   - the environment (package syscall copies it at start-up);
//   - the preopened directories, the location's granted directories (package syscall
//     lists them at start-up).
//
// So the build calls weft_preinit last, which marks the snapshot, and the first export call
// of every instance made from it (refreshAfterSnapshot, from host_wasm.go) reads all three
// again. A component built with `weft build --no-pre-init` never sets the mark, and none of
// this runs.
//
// The random state and the directory list are the runtime's and package syscall's own
// variables, reached with go:linkname (the build links with -checklinkname=0). Their layout
// is checked first: on a Go whose runtime differs, the generator is left as it is and the
// step's log says so, rather than writing into memory the SDK does not understand.

import (
	"encoding/json"
	"os"
	"path"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	witRuntime "example.invalid/weft/guest-sdk/go/internal/witrt/runtime"
)

// snapshotted is set by weft_preinit inside the build's snapshot, so every instance made
// from it starts with it set; refreshAfterSnapshot clears it.
var snapshotted bool

// weftPreinit runs last in the build's initialization and leaves in the snapshot what
// every step would otherwise redo: the registry built (definitions resolved), encoding/json's
// caches filled for the ops' input and output types and for the values an `any` usually
// holds, the garbage of all that collected (so the heap's free space is ready for the
// first allocations instead of growing), a span of every small size class in the
// allocator's cache, and the goroutine's stack grown to what a step typically needs
// (instead of being copied as it grows, call after call). Then it marks the snapshot.
// Measured on examples/numbers-go (one warm step, instantiate + op call, with
// `weft-bench --languages-only`): 550 µs pre-initialized with none of these, 400 with the
// registry and the collection, about 80 with all.
//
// The collection runs with the collector on (it is off outside exports, see
// internal/witrt): a cycle run while it is off leaves the runtime's pacing believing that
// the heap may grow without bound, and its scavenger's goal, derived from that, at about
// the heap in use. Then any growth of the heap makes the allocator scavenge and read the
// clock, an import, and an allocation the host makes through cabi_realloc (a response body
// read from wasi:http, say) trapped the instance ("cannot leave component instance").
//
//go:wasmexport weft_preinit
func weftPreinit() {
	defer witRuntime.CollectorOn()()
	r := theRegistry()
	warmJSON(r)
	runtime.GC()
	warmJSON(r) // again, so the spans encoding/json allocates from are cached
	warmSizeClasses()
	growStack(stackFrames)
	snapshotted = true
}

// warmJSON encodes and decodes a zero value of every type an op (asset, multi-asset)
// takes or returns (and an asset check takes), so that encoding/json has worked out their fields and codecs once,
// at build time. A type whose own MarshalJSON or UnmarshalJSON panics on a zero value is
// skipped.
func warmJSON(r *registry) {
	ops := append([]*Op(nil), r.ops...)
	if r.defs != nil {
		for _, a := range r.defs.Assets {
			if a != nil && a.op != nil {
				ops = append(ops, a.op)
			}
		}
	}
	for _, m := range r.multis {
		ops = append(ops, m.op)
	}
	_, _ = json.Marshal(dynamicValues)
	for _, op := range ops {
		types := []reflect.Type{op.out, dynamicElem(op.out)} // a Dynamic[T]'s values are Ts
		for _, p := range op.params {
			types = append(types, p.typ)
		}
		for _, t := range types {
			if t != nil {
				warmType(t)
			}
		}
	}
	for _, c := range r.checks {
		if c.typ != nil {
			warmType(c.typ)
		}
	}
}

// dynamicValues are the values an `any` usually holds in an op's output (a
// map[string]any, say): encoding/json codes them by their dynamic types, whose codecs are
// built when first met (about 90 µs of a Go op's first answer of this kind, measured with
// `weft-bench --network-only`).
var dynamicValues = map[string]any{
	"string": "", "int": 0, "int64": int64(0), "float64": 0.0, "bool": false, "nil": nil,
	"map": map[string]any{"slice": []any{}}, "strings": []string{}, "ints": []int{},
	"int64s": []int64{}, "float64s": []float64{},
}

func warmType(t reflect.Type) {
	defer func() { _ = recover() }()
	_, _ = json.Marshal(reflect.New(t).Elem().Interface())
	_ = json.Unmarshal([]byte("null"), reflect.New(t).Interface())
}

// allocated keeps warmSizeClasses' allocations from being optimized away.
var allocated any

// warmSizeClasses allocates one object of each small size, with and without pointers, so
// that after the collection every size class has a span in the allocator's cache: a step's
// first allocations take from it rather than each fetching and initializing a span.
func warmSizeClasses() {
	for size := 8; size <= 32<<10; size += size / 8 {
		allocated = make([]byte, size)
		allocated = make([]*byte, size/8)
	}
	allocated = nil
}

// stackFrames × 1 KiB is the stack growStack leaves the goroutine.
const stackFrames = 64

// growStack recurses through n frames of 1 KiB each, so the goroutine's stack is grown to
// hold them (Go grows a stack by copying it, and keeps the larger one).
//
//go:noinline
func growStack(n int) byte {
	var frame [1024]byte
	frame[n%len(frame)] = byte(n)
	if n <= 0 {
		return frame[0]
	}
	return growStack(n-1) + frame[(n*7)%len(frame)]
}

// refreshAfterSnapshot makes an instance made from a snapshot read its own randomness,
// environment and directories, once, before its first export call does anything else.
func refreshAfterSnapshot() {
	if !snapshotted {
		return
	}
	snapshotted = false
	if !reseedRuntime() {
		hostLog(LevelWarning, "weft: this Go's runtime is not the one the SDK knows: its random "+
			"generator was not reseeded after pre-initialization, so every instance draws the "+
			"same sequence (build with --no-pre-init to avoid it)", nil)
	}
	reloadEnv()
	reloadPreopens()
}

// --- the runtime's random generator ----------------------------------------------------

// globalRandLayout is runtime.globalRand's type (runtime/rand.go: a mutex, the seed, a
// chacha8rand.State and the init flag), the same since Go 1.22.
type globalRandLayout struct {
	lock  struct{ key uintptr }
	seed  [32]byte
	state struct {
		buf     [32]uint64
		seed    [4]uint64
		i, n, c uint32
	}
	init bool
}

//go:linkname runtimeGlobalRand runtime.globalRand
var runtimeGlobalRand globalRandLayout

// runtimeRandinit seeds the global generator from WASI's random_get (runtime.randinit).
//
//go:linkname runtimeRandinit runtime.randinit
func runtimeRandinit()

// runtimeMrandinit seeds an M's generator, the one map seeds and math/rand draw from,
// from the global one (runtime.mrandinit).
//
//go:linkname runtimeMrandinit runtime.mrandinit
func runtimeMrandinit(mp unsafe.Pointer)

//go:linkname runtimeAcquirem runtime.acquirem
func runtimeAcquirem() unsafe.Pointer

//go:linkname runtimeReleasem runtime.releasem
func runtimeReleasem(mp unsafe.Pointer)

// reseedRuntime seeds the runtime's generators again, as the runtime does at start-up.
// It reports false, and changes nothing, if runtime.globalRand is not in the state
// start-up leaves it in (initialized, unlocked, its seed wiped).
func reseedRuntime() bool {
	g := &runtimeGlobalRand
	if !g.init || g.lock.key != 0 || g.seed != [32]byte{} {
		return false
	}
	g.init = false
	runtimeRandinit()
	mp := runtimeAcquirem()
	runtimeMrandinit(mp)
	runtimeReleasem(mp)
	return true
}

// --- the environment ----------------------------------------------------------------------

//go:wasmimport wasi_snapshot_preview1 environ_sizes_get
//go:noescape
func wasiEnvironSizesGet(count unsafe.Pointer, size unsafe.Pointer) uint32

//go:wasmimport wasi_snapshot_preview1 environ_get
//go:noescape
func wasiEnvironGet(environ unsafe.Pointer, buf unsafe.Pointer) uint32

// reloadEnv replaces the environment the snapshot holds with this instance's.
func reloadEnv() {
	var count, size uint32
	if wasiEnvironSizesGet(unsafe.Pointer(&count), unsafe.Pointer(&size)) != 0 {
		return
	}
	os.Clearenv()
	if count == 0 {
		return
	}
	pointers := make([]uint32, count) // addresses in the 32-bit linear memory
	buf := make([]byte, size)
	if wasiEnvironGet(unsafe.Pointer(&pointers[0]), unsafe.Pointer(&buf[0])) != 0 {
		return
	}
	for _, entry := range strings.Split(strings.TrimSuffix(string(buf), "\x00"), "\x00") {
		if name, value, ok := strings.Cut(entry, "="); ok && name != "" {
			_ = os.Setenv(name, value)
		}
	}
}

// --- the preopened directories ------------------------------------------------------------

// preopenDir is package syscall's opendir (syscall/fs_wasip1.go).
type preopenDir struct {
	fd   int32
	name string
}

//go:linkname syscallPreopens syscall.preopens
var syscallPreopens []preopenDir

//go:linkname syscallCwd syscall.cwd
var syscallCwd string

//go:wasmimport wasi_snapshot_preview1 fd_prestat_get
//go:noescape
func wasiFdPrestatGet(fd int32, prestat unsafe.Pointer) uint32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
//go:noescape
func wasiFdPrestatDirName(fd int32, name unsafe.Pointer, len uint32) uint32

const (
	errnoNotdir  = 54
	preopenIsDir = 0
)

// reloadPreopens lists this instance's preopened directories, as package syscall does at
// start-up, and sets its working directory the same way.
func reloadPreopens() {
	var found []preopenDir
	for fd := int32(3); ; fd++ {
		var prestat struct {
			typ     uint8
			_       [3]byte
			nameLen uint32
		}
		errno := wasiFdPrestatGet(fd, unsafe.Pointer(&prestat))
		if errno == errnoNotdir || (errno == 0 && prestat.typ != preopenIsDir) {
			continue
		}
		if errno != 0 { // EBADF: past the last one
			break
		}
		name := make([]byte, prestat.nameLen)
		if len(name) > 0 && wasiFdPrestatDirName(fd, unsafe.Pointer(&name[0]), prestat.nameLen) != 0 {
			continue
		}
		found = append(found, preopenDir{fd: fd, name: string(name)})
	}
	syscallPreopens = found
	if pwd := os.Getenv("PWD"); pwd != "" {
		syscallCwd = path.Join("/", pwd)
	} else if len(found) > 0 {
		syscallCwd = found[0].name
	} else {
		syscallCwd = ""
	}
}
