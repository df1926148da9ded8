package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/certplan/certplan/pkg/plan"
)

// progressBar draws "[=====>    ] 12/50" on a terminal while a long apply
// runs. The per-order lines stay on stdout; the bar lives on stderr and is
// redrawn in place, so logs and pipes never see it.
type progressBar struct {
	w     io.Writer
	total int
	done  int
	on    bool
}

// barTotal is how many orders the bar counts for p: one per change apply
// acts on, as apply.Run reports one result (and one progress step) for each.
func barTotal(p *plan.Plan) int { return len(p.ToApply()) }

// minBarOrders is the size from which an apply is long enough for a bar.
const minBarOrders = 10

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, on: total >= minBarOrders && isTTY(w)}
}

// step clears the bar, lets print write its line, and redraws the bar.
func (p *progressBar) step(print func()) {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
	print()
	p.done++
	if p.on {
		fmt.Fprint(p.w, renderBar(p.done, p.total, 30))
		if p.done == p.total {
			fmt.Fprint(p.w, "\r\033[K")
		}
	}
}

// renderBar is the bar text for done of total, width characters wide.
func renderBar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	if done > total {
		done = total
	}
	filled := done * width / total
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("[%s] %d/%d orders", bar, done, total)
}
