// Command fuzzrun drives goevent's differential fuzz programs
// (tests/fuzz/fuzz_*.c, each built against libevent as NAME_ref and against
// goevent as NAME_ge): it runs both builds over ranges of seeds, compares
// their per-seed trace hashes, shrinks every seed on which they differ (or
// one of them crashes, or a sanitizer reports) to a minimal list of
// operations, and prints the two traces of that minimal sequence.
//
// Operations on which libevent itself is undefined are not generated; the
// programs count how often each such rule held one back, and the table of
// rules below says why each exists. A program naming a rule this table
// does not know is an error.
//
//	fuzzrun -bindir build/tests/fuzz [-prog buffer,bev,loop] [-from 1]
//	        [-count 1000] [-corpus tests/fuzz/corpus] [-record]
//	        [-libdir build/lib] [-jobs 2]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A program the runner knows: its binary's base name and the arguments
// that select its variant.
type program struct {
	name string
	bin  string
	args []string
	nops int
}

var programs = []program{
	{"buffer", "fuzz_buffer", nil, 60},
	{"buffer-locked", "fuzz_buffer", []string{"-t"}, 60},
	{"bev", "fuzz_bev", nil, 40},
	{"bev-locked", "fuzz_bev", []string{"-t"}, 40},
	{"loop", "fuzz_loop", nil, 50},
}

// skipRules: every operation a fuzz program leaves out because libevent
// 2.1.12 crashes on it or leaves its outcome undefined, and why.
var skipRules = map[string]string{
	"reserve-zero-multi": "evbuffer_reserve_space(buf, 0, vec, n >= 2): on a buffer whose last " +
		"chain is full libevent hands out vectors from uninitialised chain state",
	"ref-into-empty-with-chains": "evbuffer_add_buffer_reference into a buffer that is empty but " +
		"still holds chains: libevent frees those chains and goes on using them",
	"segment-empty": "evbuffer_add_file_segment of an empty segment to a buffer that does not " +
		"drain to an fd: loading the segment's contents fails, and that failure returns without " +
		"dropping the caller's reference, where every other failure drops it, so the caller cannot " +
		"know whether to free the segment (LeakSanitizer reports the segment on both libraries)",
	"reference-cycle": "buffers holding add_buffer_reference chains of each other or of themselves " +
		"(directly, or by moving such a chain with add_buffer, prepend_buffer or remove_buffer into " +
		"the buffer it refers to): each keeps the other alive, and neither library ever frees them " +
		"(LeakSanitizer reports both)",
	"sendfile-chain": "looking at the bytes of a file segment added to a buffer with " +
		"EVBUFFER_FLAG_DRAINS_TO_FD: libevent's sendfile chain holds no bytes, and peek, copyout, " +
		"pullup or search read through a bogus pointer (such chains are only written out, in an " +
		"operation of their own)",
	"defer-twice": "evbuffer_defer_callbacks on a buffer whose callbacks already run deferred: " +
		"libevent re-initialises its deferred callback even while that is queued, and the base's " +
		"active queue breaks (event_queue_remove_active aborts)",
	"segment-past-eof": "evbuffer_file_segment_new(fd, offset > 0, -1, ...): libevent takes the " +
		"whole file's size as the length, so the segment reaches past the end of the file " +
		"(SIGBUS when mapped)",
	"free-underlying": "bufferevent_free of a bufferevent a filter is built over (from an " +
		"operation or its own callback): the filter holds it and, with BEV_OPT_CLOSE_ON_FREE, " +
		"frees it again when it goes (libevent frees it twice)",
	"expire-busy": "making a timeout expire on a bufferevent that is not a socket bufferevent " +
		"with its peer open and no filter over it, or a read timeout when the peer has shut its " +
		"writing side: other events (an end of file already waiting) could race the timeout, " +
		"and the trace would depend on time",
	"filter-free-full": "a filter freeing itself in its read callback with its input at its read " +
		"high watermark and reading enabled: the filter runs that callback without a reference of " +
		"its own when the underlying delivers, so the watermark check after it triggers the freed filter, whose reference count " +
		"goes from 0 to 1 and back, and the filter is freed twice (libevent asserts refcnt > 0 in " +
		"bufferevent_decref_and_unlock_; goevent logs the underflow)",
	"filter-reentry": "a write high watermark on a filter that another filter is built over: " +
		"the inner filter's write callback belongs to the outer one, which then runs its output " +
		"filter again from inside its own evbuffer_remove_buffer and both walk chains that moved " +
		"under them (libevent dereferences a NULL chain; goevent panics the same way)",
	"priority-while-queued": "bufferevent_priority_set while one of its deferred callbacks is " +
		"queued: libevent changes the queued callback's priority in place and later takes it off " +
		"the wrong queue, so the loop spins forever, and freeing the base after that may too " +
		"(priorities are set right after a pass of the loop, when nothing is queued; not after a " +
		"pass the watchdog cut short)",
	"loop-livelock": "(not skipped, cut short) a nonblocking pass of the loop that never ends " +
		"because libevent keeps rescheduling a bufferevent's deferred callback (seen with a pair " +
		"end at its read high watermark under a filter); fuzz_bev ends the pass after a million " +
		"of its callbacks, or when none has run for 2 s, and the sequence there, and goevent " +
		"must have livelocked at the same point",
	"read-zero": "evbuffer_read(buf, fd, 0) when the buffer's last chain is full: libevent's " +
		"vector setup finds no chain and asserts (buffer.c: evbuffer_read_setup_vecs_)",
}

// byConstruction: undefined cases the programs never come near, so they
// count nothing, listed here for the record.
var byConstruction = map[string]string{
	"self-remove-nested": "an evbuffer callback removing itself during a nested callback run: " +
		"libevent's list walk goes on from the freed entry (fuzz_buffer's callbacks never remove " +
		"entries; removals are operations of their own)",
	"stale-ptr": "an evbuffer_ptr used after the buffer changed: libevent follows its cached " +
		"chain pointer (positions are set and used within one operation)",
	"null-arguments": "NULL buffers, events or bases: libevent crashes where goevent logs and " +
		"fails (a documented difference; tests/c/solo_buffer_badargs.c covers goevent's side)",
}

type side struct {
	name string   // "ref", "ge", "dropin"
	bin  string   // the binary
	env  []string // extra environment
}

type result struct {
	hashes map[uint64]string
	order  []uint64
	skips  map[string]int64
	err    error // non-nil when the process did not exit 0
	stderr string
}

func run(ctx context.Context, s side, args []string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	var out, eout bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &eout
	cmd.Stdin = nil
	err = cmd.Run()
	return out.Bytes(), eout.Bytes(), err
}

// runChunk runs seeds [from, from+count) on one side in run mode.
func runChunk(s side, p program, from, count uint64, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append(append([]string{}, p.args...), "run", strconv.FormatUint(from, 10),
		strconv.FormatUint(count, 10), strconv.Itoa(p.nops))
	out, eout, err := run(ctx, s, args)
	r := result{hashes: map[uint64]string{}, skips: map[string]int64{}, err: err, stderr: string(eout)}
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v", timeout)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "skip" {
			n, _ := strconv.ParseInt(f[2], 10, 64)
			r.skips[f[1]] += n
			continue
		}
		if len(f) != 2 {
			continue
		}
		seed, perr := strconv.ParseUint(f[0], 10, 64)
		if perr != nil {
			continue
		}
		r.hashes[seed] = f[1]
		r.order = append(r.order, seed)
	}
	return r
}

// A sanitizer's report: ASan and LSan announce themselves; UBSan prints
// "file:line:column: runtime error: ..." (a Go panic's "panic: runtime
// error:" is a crash, not a report).
var sanitizerReport = regexp.MustCompile(`ERROR: (Address|Leak)Sanitizer|:[0-9]+:[0-9]+: runtime error: `)

func hasReport(stderr string) bool { return sanitizerReport.MatchString(stderr) }

// finding: one seed on which the sides disagree, crash, or report.
type finding struct {
	prog   program
	seed   uint64
	kind   string // "difference", "crash", "libevent-crash", "sanitizer"
	detail string
	keep   []int
	traces map[string]string
}

type stats struct {
	mu        sync.Mutex
	sequences map[string]uint64
	skips     map[string]int64
	findings  []*finding
}

func (st *stats) add(p program, n uint64, skips map[string]int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sequences[p.name] += n
	for k, v := range skips {
		st.skips[k] += v
	}
}

func (st *stats) found(f *finding) {
	st.mu.Lock()
	st.findings = append(st.findings, f)
	st.mu.Unlock()
}

// campaign runs [from, from+count) of p in chunks; a chunk is rerun after
// the seed at which a side died.
func campaign(p program, sides []side, from, count, chunk uint64, jobs int, timeout time.Duration, st *stats) {
	type span struct{ from, count uint64 }
	work := make(chan span)
	var wg sync.WaitGroup
	for j := 0; j < jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sp := range work {
				doChunk(p, sides, sp.from, sp.count, timeout, st)
			}
		}()
	}
	for s := from; s < from+count; s += chunk {
		n := chunk
		if s+n > from+count {
			n = from + count - s
		}
		work <- span{s, n}
	}
	close(work)
	wg.Wait()
}

func doChunk(p program, sides []side, from, count uint64, timeout time.Duration, st *stats) {
	for count > 0 {
		res := make([]result, len(sides))
		var wg sync.WaitGroup
		for i := range sides {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				res[i] = runChunk(sides[i], p, from, count, timeout)
			}(i)
		}
		wg.Wait()
		// Seeds every side finished.
		done := count
		for i := range sides {
			if res[i].err != nil {
				n := uint64(len(res[i].order))
				if n < done {
					done = n
				}
			}
		}
		for s := from; s < from+done; s++ {
			want := res[0].hashes[s]
			for i := 1; i < len(sides); i++ {
				if res[i].hashes[s] != want {
					st.found(&finding{prog: p, seed: s, kind: "difference",
						detail: sides[i].name + " differs from " + sides[0].name})
					break
				}
			}
		}
		reported := false
		for i := range sides {
			if hasReport(res[i].stderr) {
				// Which seed: the one after the last line printed
				// (ASan aborts at once; LSan reports at exit).
				seed := from + uint64(len(res[i].order))
				if seed >= from+count {
					seed = from + count - 1
				}
				st.found(&finding{prog: p, seed: seed, kind: "sanitizer",
					detail: sides[i].name + ": " + firstLines(res[i].stderr, 30)})
				reported = true
			}
		}
		if done == count {
			for i := range sides {
				if res[i].err != nil && !reported {
					st.found(&finding{prog: p, seed: from + count - 1, kind: "crash",
						detail: fmt.Sprintf("%s: %v after its last seed: %s", sides[i].name,
							res[i].err, firstLines(res[i].stderr, 10))})
				}
			}
			st.add(p, count, res[0].skips)
			return
		}
		// A side died at seed from+done.
		bad := from + done
		for i := range sides {
			if res[i].err != nil && uint64(len(res[i].order)) == done && !reported {
				kind := "crash"
				if i == 0 {
					kind = "libevent-crash"
				}
				st.found(&finding{prog: p, seed: bad, kind: kind,
					detail: fmt.Sprintf("%s: %v: %s", sides[i].name, res[i].err,
						firstLines(res[i].stderr, 10))})
			}
		}
		st.add(p, done+1, nil)
		from = bad + 1
		count -= done + 1
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// ---- traces and shrinking ----------------------------------------------------

func keepString(keep []int) string {
	var b strings.Builder
	for i := 0; i < len(keep); {
		j := i
		for j+1 < len(keep) && keep[j+1] == keep[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j == i {
			fmt.Fprintf(&b, "%d", keep[i])
		} else {
			fmt.Fprintf(&b, "%d-%d", keep[i], keep[j])
		}
		i = j + 1
	}
	return b.String()
}

func parseKeep(s string) ([]int, error) {
	var keep []int
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(a)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(b); err != nil {
				return nil, err
			}
		}
		for i := lo; i <= hi; i++ {
			keep = append(keep, i)
		}
	}
	return keep, nil
}

// trace runs one seed's sequence (keep nil: all operations) on one side:
// its stdout and how it ended.
func trace(s side, p program, seed uint64, keep []int, nops int) (string, string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{}, p.args...), "trace", strconv.FormatUint(seed, 10),
		strconv.Itoa(nops))
	if keep != nil {
		if len(keep) == 0 {
			args = append(args, "-1")
		} else {
			args = append(args, keepString(keep))
		}
	}
	out, eout, err := run(ctx, s, args)
	end := "exit 0"
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		end = "timed out"
	case errors.As(err, &ee):
		end = ee.ProcessState.String()
	case err != nil:
		end = err.Error()
	}
	if hasReport(string(eout)) {
		end += " with a sanitizer report"
	}
	return string(out), end, string(eout)
}

// bad says whether a sequence still shows the finding's kind of trouble.
func bad(f *finding, sides []side, keep []int) bool {
	outs := make([]string, len(sides))
	ends := make([]string, len(sides))
	for i, s := range sides {
		outs[i], ends[i], _ = trace(s, f.prog, f.seed, keep, f.prog.nops)
	}
	switch f.kind {
	case "libevent-crash":
		return ends[0] != "exit 0"
	case "sanitizer":
		for _, e := range ends {
			if strings.Contains(e, "sanitizer") {
				return true
			}
		}
		return false
	}
	for i := 1; i < len(sides); i++ {
		if outs[i] != outs[0] || ends[i] != ends[0] {
			return true
		}
	}
	return false
}

// shrink reduces the operations of f's seed to a minimal list that still
// shows the trouble (ddmin, then one by one).
func shrink(f *finding, sides []side) {
	keep := make([]int, f.prog.nops)
	for i := range keep {
		keep[i] = i
	}
	if !bad(f, sides, keep) {
		f.keep = keep
		f.detail += " (not reproduced alone: depends on seeds run before it)"
		return
	}
	n := 2
	for len(keep) >= 2 {
		size := (len(keep) + n - 1) / n
		reduced := false
		for i := 0; i < len(keep); i += size {
			j := i + size
			if j > len(keep) {
				j = len(keep)
			}
			try := append(append([]int{}, keep[:i]...), keep[j:]...)
			if bad(f, sides, try) {
				keep = try
				if n > 2 {
					n--
				}
				reduced = true
				break
			}
		}
		if reduced {
			continue
		}
		if n >= len(keep) {
			break
		}
		n *= 2
		if n > len(keep) {
			n = len(keep)
		}
	}
	for i := 0; i < len(keep) && len(keep) > 1; {
		try := append(append([]int{}, keep[:i]...), keep[i+1:]...)
		if bad(f, sides, try) {
			keep = try
		} else {
			i++
		}
	}
	f.keep = keep
	f.traces = map[string]string{}
	for _, s := range sides {
		out, end, _ := trace(s, f.prog, f.seed, keep, f.prog.nops)
		f.traces[s.name] = out + end + "\n"
	}
}

// ---- the corpus ----------------------------------------------------------------

type entry struct {
	prog string
	seed uint64
	nops int
	keep []int
	note string
}

// readCorpus reads dir/PROG.txt: "SEED NOPS [KEEP] [# note]" lines.
func readCorpus(dir, prog string) ([]entry, error) {
	data, err := os.ReadFile(filepath.Join(dir, prog+".txt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var es []entry
	for n, line := range strings.Split(string(data), "\n") {
		body, note, _ := strings.Cut(line, "#")
		f := strings.Fields(body)
		if len(f) == 0 {
			continue
		}
		e := entry{prog: prog, note: strings.TrimSpace(note)}
		if e.seed, err = strconv.ParseUint(f[0], 10, 64); err != nil || len(f) < 2 {
			return nil, fmt.Errorf("%s.txt:%d: want SEED NOPS [KEEP]", prog, n+1)
		}
		if e.nops, err = strconv.Atoi(f[1]); err != nil {
			return nil, fmt.Errorf("%s.txt:%d: %v", prog, n+1, err)
		}
		if len(f) > 2 {
			if e.keep, err = parseKeep(f[2]); err != nil {
				return nil, fmt.Errorf("%s.txt:%d: %v", prog, n+1, err)
			}
		}
		es = append(es, e)
	}
	return es, nil
}

func appendCorpus(dir string, f *finding) error {
	fh, err := os.OpenFile(filepath.Join(dir, f.prog.name+".txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer fh.Close()
	_, err = fmt.Fprintf(fh, "%d %d %s # %s found %s\n", f.seed, f.prog.nops, keepString(f.keep),
		f.kind, time.Now().UTC().Format("2006-01-02"))
	return err
}

// ---- main ---------------------------------------------------------------------

func main() {
	bindir := flag.String("bindir", "", "directory holding fuzz_*_ref and fuzz_*_ge")
	libdir := flag.String("libdir", "", "goevent's lib directory: also run the libevent build on goevent (drop-in)")
	gelib := flag.String("gelib", "", "run the goevent build on the library in this directory "+
		"(LD_LIBRARY_PATH), e.g. a copy taken for a long campaign")
	progs := flag.String("prog", "all", "comma-separated programs: "+progNames())
	from := flag.Uint64("from", 1, "first seed")
	count := flag.Uint64("count", 1000, "seeds per program")
	chunk := flag.Uint64("chunk", 500, "seeds per process")
	jobs := flag.Int("jobs", 2, "chunks run at once")
	corpus := flag.String("corpus", "", "directory of corpus files (PROG.txt), run in full first")
	record := flag.Bool("record", false, "append the shrunk findings to the corpus")
	timeout := flag.Duration("timeout", 2*time.Minute, "limit for one process (a hang is a finding)")
	maxShrink := flag.Int("max-shrink", 10, "findings shrunk per program (the rest listed)")
	flag.Parse()
	if *bindir == "" {
		fmt.Fprintln(os.Stderr, "fuzzrun: -bindir is required")
		os.Exit(2)
	}
	var sel []program
	for _, name := range strings.Split(*progs, ",") {
		found := false
		for _, p := range programs {
			if name == "all" || name == p.name {
				sel = append(sel, p)
				found = true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "fuzzrun: no program %q (%s)\n", name, progNames())
			os.Exit(2)
		}
	}
	st := &stats{sequences: map[string]uint64{}, skips: map[string]int64{}}
	start := time.Now()
	failed := false
	for _, p := range sel {
		sides := []side{
			{"ref", filepath.Join(*bindir, p.bin+"_ref"), nil},
			{"ge", filepath.Join(*bindir, p.bin+"_ge"), nil},
		}
		if *gelib != "" {
			sides[1].env = []string{"LD_LIBRARY_PATH=" + *gelib}
		}
		if *libdir != "" {
			sides = append(sides, side{"dropin", sides[0].bin, []string{"LD_LIBRARY_PATH=" + *libdir}})
		}
		missing := false
		for _, s := range sides[:2] {
			if _, err := os.Stat(s.bin); err != nil {
				fmt.Fprintf(os.Stderr, "fuzzrun: %v\n", err)
				missing = true
			}
		}
		if missing {
			os.Exit(2)
		}
		if *corpus != "" {
			es, err := readCorpus(*corpus, p.name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fuzzrun:", err)
				os.Exit(2)
			}
			bad := 0
			for _, e := range es {
				pp := p
				pp.nops = e.nops
				f := &finding{prog: pp, seed: e.seed, kind: "difference", keep: e.keep}
				if checkEntry(f, sides) {
					bad++
					failed = true
				}
			}
			fmt.Printf("%s: corpus of %d sequences: %d differ\n", p.name, len(es), bad)
		}
		before := len(st.findings)
		campaign(p, sides, *from, *count, *chunk, *jobs, *timeout, st)
		fs := st.findings[before:]
		sort.Slice(fs, func(i, j int) bool { return fs[i].seed < fs[j].seed })
		for i, f := range fs {
			failed = true
			if i < *maxShrink {
				shrink(f, sides)
				if *record && *corpus != "" {
					if err := appendCorpus(*corpus, f); err != nil {
						fmt.Fprintln(os.Stderr, "fuzzrun:", err)
					}
				}
			}
			report(f)
		}
		fmt.Printf("%s: %d sequences of %d operations, %d findings\n", p.name,
			st.sequences[p.name], p.nops, len(fs))
	}
	var total uint64
	for _, n := range st.sequences {
		total += n
	}
	fmt.Printf("fuzzrun: %d sequences in %v, %d findings\n", total,
		time.Since(start).Round(time.Second), len(st.findings))
	{
		fmt.Println("operations left out because libevent is undefined there:")
		ids := make([]string, 0, len(st.skips))
		for id := range st.skips {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			why, ok := skipRules[id]
			if !ok {
				why = "UNKNOWN RULE: add it to skipRules with its reason"
				failed = true
			}
			fmt.Printf("  %-28s %8d  %s\n", id, st.skips[id], why)
		}
		ids = ids[:0]
		for id := range byConstruction {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Printf("  %-28s %8s  %s\n", id, "never", byConstruction[id])
		}
	}
	if failed {
		os.Exit(1)
	}
}

// checkEntry runs one corpus sequence on every side; true if they differ
// (the traces are printed then).
func checkEntry(f *finding, sides []side) bool {
	var ref, refEnd string
	differs := false
	for i, s := range sides {
		out, end, eout := trace(s, f.prog, f.seed, f.keep, f.prog.nops)
		if i == 0 {
			ref, refEnd = out, end
			continue
		}
		if out != ref || end != refEnd || hasReport(eout) {
			differs = true
			fmt.Printf("corpus %s seed %d keep %s: %s differs (%s vs %s)\n%s", f.prog.name, f.seed,
				keepString(f.keep), s.name, end, refEnd, lineDiff(ref, out))
		}
	}
	return differs
}

func report(f *finding) {
	fmt.Printf("== %s seed %d: %s: %s\n", f.prog.name, f.seed, f.kind, f.detail)
	if f.keep == nil {
		return
	}
	fmt.Printf("   minimal: %s trace %d %d %s\n", f.prog.bin, f.seed, f.prog.nops, keepString(f.keep))
	if f.traces == nil {
		return
	}
	ref := f.traces["ref"]
	for name, t := range f.traces {
		if name == "ref" {
			continue
		}
		if t != ref {
			fmt.Printf("-- ref vs %s:\n%s", name, lineDiff(ref, t))
		}
	}
	if f.kind != "difference" {
		fmt.Printf("-- trace (ref):\n%s", ref)
	}
}

// lineDiff prints both traces from their first differing line (at most 40
// lines of each, with 3 lines of context before).
func lineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	from := i - 3
	if from < 0 {
		from = 0
	}
	var out strings.Builder
	for k := from; k < i; k++ {
		fmt.Fprintf(&out, "    %s\n", la[k])
	}
	for k := i; k < len(la) && k < i+40; k++ {
		fmt.Fprintf(&out, "  < %s\n", la[k])
	}
	for k := i; k < len(lb) && k < i+40; k++ {
		fmt.Fprintf(&out, "  > %s\n", lb[k])
	}
	return out.String()
}

func progNames() string {
	var n []string
	for _, p := range programs {
		n = append(n, p.name)
	}
	return strings.Join(n, ", ")
}
