package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// The chart: one panel per store, a group of horizontal bars per framework
// and scenario, one bar per library (median ns/op), on a log scale so that
// a framework floor of 100 ns and a peer at 100 µs both read.

const (
	chartW     = 980
	labelRight = 250 // right edge of the library labels
	barLeft    = 258
	barRight   = 850 // the axis ends here; value labels go beyond
	barH       = 11
	barGap     = 3
	groupGap   = 12
	panelGap   = 36
)

var colours = map[string]string{
	"ours":   "#1f6feb",
	"peer":   "#e8833a",
	"cookie": "#f3c39b",
	"floor":  "#9aa0a6",
	"raw":    "#5f6368",
}

type bar struct {
	label, kind string
	ns          float64
}

type group struct {
	title string
	bars  []bar
}

func kindOf(lib string) string {
	switch {
	case isOurs(lib):
		return "ours"
	case lib == floor:
		return "floor"
	case clientSide(lib):
		return "cookie"
	}
	return "peer"
}

// groups is one store's bars.
func groups(r *run, top string) []group {
	var out []group
	for _, fw := range frameworks {
		ls := libs(r, top, fw)
		if len(ls) == 0 {
			continue
		}
		for _, sc := range scenarios {
			g := group{title: frameworkTitle[fw] + " · " + sc}
			if ns := floorNs(r, fw, sc); ns > 0 {
				g.bars = append(g.bars, bar{"framework alone", "floor", ns})
			}
			if raw, label := rawFloor(top, sc); raw != "" {
				if ns, ok := r.get(raw).median("ns/op"); ok {
					g.bars = append(g.bars, bar{label, "raw", ns})
				}
			}
			for _, lib := range ls {
				if ns, ok := r.get(name(top, fw, lib, sc)).median("ns/op"); ok {
					g.bars = append(g.bars, bar{lib, kindOf(lib), ns})
				}
			}
			if len(g.bars) > 0 {
				out = append(out, g)
			}
		}
	}
	return out
}

func chart(b *bytes.Buffer, r *run) {
	type panel struct {
		title  string
		groups []group
	}
	var panels []panel
	lo, hi := math.Inf(1), 0.0
	for _, top := range stores {
		gs := groups(r, top)
		if len(gs) == 0 {
			continue
		}
		panels = append(panels, panel{storeTitle[top], gs})
		for _, g := range gs {
			for _, x := range g.bars {
				lo, hi = min(lo, x.ns), max(hi, x.ns)
			}
		}
	}
	if len(panels) == 0 {
		lo, hi = 1, 10
	}
	dLo, dHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dHi <= dLo {
		dHi = dLo + 1
	}
	x := func(ns float64) float64 {
		return barLeft + (math.Log10(ns)-dLo)/(dHi-dLo)*(barRight-barLeft)
	}

	// Height: title and legend, then each panel.
	y := 0.0
	var body bytes.Buffer
	y += 28
	fmt.Fprintf(&body, `<text x="12" y="%.0f" class="title">sessionkit and its peers: median ns/op per request (log scale, shorter is faster)</text>`+"\n", y)
	y += 20
	lx := 12.0
	for _, l := range []struct{ kind, label string }{
		{"ours", "sessionkit"}, {"peer", "peer (server-side store)"}, {"cookie", "peer, cookie store (client-side; reference)"},
		{"floor", "framework, no sessions"}, {"raw", "raw client (go-redis, pgx)"},
	} {
		fmt.Fprintf(&body, `<rect x="%.0f" y="%.0f" width="12" height="10" fill="%s"/><text x="%.0f" y="%.0f" class="legend">%s</text>`+"\n", lx, y-9, colours[l.kind], lx+16, y, html.EscapeString(l.label))
		lx += 28 + 6.2*float64(len(l.label))
	}
	date := r.config["date"]
	machine := fmt.Sprintf("%s, %s cores, %s, %s", or(r.config["cpu-model"], or(r.config["cpu"], "?")), or(r.config["nproc"], "?"), or(r.config["go-version"], "?"), or(date, "?"))
	y += 18
	fmt.Fprintf(&body, `<text x="12" y="%.0f" class="note">%s; median of %s runs</text>`+"\n", y, html.EscapeString(machine), html.EscapeString(or(r.config["count"], "?")))

	for _, p := range panels {
		y += panelGap
		fmt.Fprintf(&body, `<text x="12" y="%.0f" class="panel">%s</text>`+"\n", y, html.EscapeString(p.title))
		y += 10
		top := y
		// Axis labels above the panel.
		for d := dLo; d <= dHi; d++ {
			fmt.Fprintf(&body, `<text x="%.1f" y="%.0f" class="axis" text-anchor="middle">%s</text>`+"\n", x(math.Pow(10, d)), y, axisLabel(math.Pow(10, d)))
		}
		y += 8
		start := y
		var rows bytes.Buffer
		for _, g := range p.groups {
			y += 12
			fmt.Fprintf(&rows, `<text x="12" y="%.0f" class="group">%s</text>`+"\n", y, html.EscapeString(g.title))
			y += 4
			for _, br := range g.bars {
				w := math.Max(1, x(br.ns)-barLeft)
				fmt.Fprintf(&rows, `<text x="%d" y="%.0f" class="lib" text-anchor="end">%s</text>`, labelRight, y+barH-2, html.EscapeString(br.label))
				fmt.Fprintf(&rows, `<rect x="%d" y="%.0f" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`, barLeft, y, w, barH, colours[br.kind], html.EscapeString(g.title+", "+br.label), fmtNs(br.ns))
				fmt.Fprintf(&rows, `<text x="%.1f" y="%.0f" class="val">%s</text>`+"\n", barLeft+w+4, y+barH-2, fmtNs(br.ns))
				y += barH + barGap
			}
			y += groupGap - barGap
		}
		// Grid lines behind the bars.
		for d := dLo; d <= dHi; d++ {
			gx := x(math.Pow(10, d))
			fmt.Fprintf(&body, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="grid"/>`+"\n", gx, start, gx, y)
			if d < dHi {
				for m := 2.0; m < 10; m++ {
					mx := x(m * math.Pow(10, d))
					fmt.Fprintf(&body, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="minor"/>`+"\n", mx, start, mx, y)
				}
			}
		}
		_ = top
		body.Write(rows.Bytes())
	}
	y += 16
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="-apple-system,Segoe UI,Helvetica,Arial,sans-serif">`+"\n", chartW, y, chartW, y)
	b.WriteString(`<style>
.title{font-size:15px;font-weight:600;fill:#202124}
.panel{font-size:14px;font-weight:600;fill:#202124}
.group{font-size:12px;font-weight:600;fill:#202124}
.legend,.note{font-size:11px;fill:#3c4043}
.lib,.val{font-size:10px;fill:#3c4043}
.axis{font-size:10px;fill:#5f6368}
.grid{stroke:#dadce0;stroke-width:1}
.minor{stroke:#f1f3f4;stroke-width:1}
</style>
`)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	b.Write(body.Bytes())
	b.WriteString("</svg>\n")
}

// axisLabel is a power of ten as a duration: "100 ns", "1 µs", "10 ms".
func axisLabel(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.0f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
