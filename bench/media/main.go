// Command media is a load test of internal/media: N sessions play prompts
// to N receiving sessions over loopback in this one process, and for each N
// it prints the share of packets sent more than 5 ms after their 20 ms slot,
// the CPU time and the resident memory per session.
//
//	go run ./bench/media -n 100,500,1000,2000 -d 10s
//
// Each of the N sending sessions (the gateway's side of a call) plays a prompt
// in a loop to one receiving session (the caller's side, recvonly, decoding
// everything it receives), so the process sends and receives 50·N packets a
// second. Figures are per call (a sending and a receiving session), the
// receiving side's CPU included. It prints figures; it never fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tandem-cc/tandem/internal/media"
)

func main() {
	ns := flag.String("n", "100,500,1000,2000", "numbers of calls to run, in turn")
	dur := flag.Duration("d", 10*time.Second, "measuring time at each step")
	ramp := flag.Duration("ramp", time.Second, "time over which calls start (calls arrive spread out, not all in one instant)")
	inband := flag.Bool("inband", false, "negotiate no telephone-event, so receivers run the Goertzel detector")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("GOMAXPROCS=%d NumCPU=%d inband=%v %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), *inband, loadavg())
	fmt.Printf("%6s %9s %10s %10s %9s %9s %11s %11s %8s %6s %6s\n",
		"calls", "sessions", "sent", "late>5ms", "late%", "maxlate", "cpu/call", "rss/call", "lost", "cores", "others")
	fmt.Println("(calls: sending sessions, each playing to one receiving session: sessions = 2×calls Session objects;")
	fmt.Println(" cpu/call and rss/call cover both ends; cores: CPU this process used; others: CPU the rest of the machine used meanwhile)")
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			log.Fatalf("bad -n %q", f)
		}
		run(n, *dur, *ramp, *inband)
		runtime.GC()
	}
}

// prompt is 3 s of a vowel-like sound, looping.
func prompt() *media.Prompt {
	pcm := make([]int16, 3*media.SampleRate)
	for i := range pcm {
		t := float64(i) / media.SampleRate
		v := 0.0
		for h := 1; h <= 10; h++ {
			v += 2000 / float64(h) * math.Sin(2*math.Pi*150*float64(h)*t)
		}
		pcm[i] = int16(v)
	}
	return media.NewPrompt("bench", pcm)
}

func run(n int, dur, ramp time.Duration, inband bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := prompt()
	lo := netip.MustParseAddr("127.0.0.1")
	var gw, callers []*media.Session
	for range n {
		a, err := media.NewSession(media.SessionConfig{LocalIP: lo})
		if err != nil {
			fmt.Printf("%6d: session: %v\n", n, err)
			closeAll(gw, callers)
			return
		}
		b, err := media.NewSession(media.SessionConfig{LocalIP: lo})
		if err != nil {
			a.Close()
			fmt.Printf("%6d: session: %v\n", n, err)
			closeAll(gw, callers)
			return
		}
		ev := 101
		if inband {
			ev = -1
		}
		// The caller side only receives (recvonly), as the far-end gateway
		// in another box would: the figures are the gateway side's, plus
		// the cost of receiving in the same process.
		a.UpdateRemote(media.Remote{Addr: b.LocalAddr(), RTCPAddr: next(b.LocalAddr()), Codec: media.PCMU, Codecs: []media.Codec{media.PCMU}, EventPT: ev, Direction: media.RecvOnly}, media.SendOnly)
		b.UpdateRemote(media.Remote{Addr: a.LocalAddr(), RTCPAddr: next(a.LocalAddr()), Codec: media.PCMU, Codecs: []media.Codec{media.PCMU}, EventPT: ev, Direction: media.SendOnly}, media.RecvOnly)
		gw, callers = append(gw, a), append(callers, b)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Calls arrive spread over the ramp.
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(ramp)) + 1)):
			case <-ctx.Done():
				return
			}
			gw[i].Start(ctx)
			callers[i].Start(ctx)
			for ctx.Err() == nil {
				if _, err := gw[i].Play(ctx, media.PlayOptions{}, p); err != nil {
					return
				}
			}
		}()
	}
	// Let every call start and settle, then measure.
	time.Sleep(ramp + time.Second) // a load generator's warm-up, not synchronisation
	s0, u0, r0, m0 := snapshot(gw), cpuTime(), rss(), machineBusy()
	l0 := snapshot(callers)
	time.Sleep(dur)
	s1, u1, r1, m1 := snapshot(gw), cpuTime(), rss(), machineBusy()
	l1 := snapshot(callers)
	cancel()
	wg.Wait()
	closeAll(gw, callers)
	sessions := 2 * n // Session objects in the process: n sending, n receiving
	sent := s1.sent - s0.sent
	late := s1.late - s0.late
	ratio := 0.0
	if sent > 0 {
		ratio = 100 * float64(late) / float64(sent)
	}
	cpuPerCall := time.Duration(float64(u1-u0) / float64(n) / dur.Seconds()) // CPU per second of call, both ends
	ours := (u1 - u0).Seconds() / dur.Seconds()
	others := max((m1-m0).Seconds()/dur.Seconds()-ours, 0)
	fmt.Printf("%6d %9d %10d %10d %8.3f%% %9s %9.1fµs/s %8.1fKiB %8d %6.2f %6.2f\n",
		n, sessions, sent, late, ratio, s1.maxLate.Round(100*time.Microsecond),
		float64(cpuPerCall.Microseconds()), float64(max(r1, r0))/1024/float64(n), l1.lost-l0.lost, ours, others)
}

func next(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr(), a.Port()+1) }

type totals struct {
	sent, late uint64
	lost       int64
	maxLate    time.Duration
}

func snapshot(groups ...[]*media.Session) totals {
	var t totals
	for _, g := range groups {
		for _, s := range g {
			st := s.Stats()
			t.sent += st.PacketsSent
			t.late += st.LateSends
			t.lost += st.Lost
			t.maxLate = max(t.maxLate, st.MaxLate)
		}
	}
	return t
}

func closeAll(groups ...[]*media.Session) {
	for _, g := range groups {
		for _, s := range g {
			s.Close()
		}
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is the resident set size in bytes, from /proc/self/status.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return "loadavg " + strings.TrimSpace(string(b))
}

// machineBusy is the CPU time the whole machine spent not idle, from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}
