package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/finsight/finsight/internal/pipeline"
)

// progressView shows a pipeline's progress (its progress query, polled)
// while the starter waits for it.
type progressView interface {
	// note prints a line of text (a change of state, a warning).
	note(line string)
	// update shows the progress query's latest answer.
	update(p pipeline.Progress)
	// finish says the run ended, with status ("Completed", "Failed", ...);
	// ok (completed) fills the bar to 100%.
	finish(status string, ok bool)
}

// newProgressView draws a progress bar when w is a terminal and prints
// plain lines (one per change of step or epoch) otherwise: a pipe, a
// file, a test.
func newProgressView(w io.Writer) progressView {
	if isTerminal(w) {
		return &barView{w: w, eta: &etaClock{}}
	}
	return &lineView{w: w, eta: &etaClock{}}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// describeProgress is the text of a progress: the step and, once training
// has reported an epoch, epoch n/N, the last losses and (while training)
// the time left.
func describeProgress(p pipeline.Progress, eta time.Duration, etaKnown bool) string {
	stage := p.Stage
	if stage == "" {
		stage = "starting"
	}
	parts := []string{stage}
	if p.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d/%d", p.Epoch, p.Epochs),
			fmt.Sprintf("loss %.4g (val %.4g)", p.TrainLoss, p.ValLoss))
		if p.Stage == "train" && p.Epoch < p.Epochs {
			left := "ETA -"
			if etaKnown {
				left = "ETA " + eta.Round(time.Second).String()
			}
			parts = append(parts, left)
		}
	}
	return strings.Join(parts, " · ")
}

// etaClock estimates the training time left from the epochs seen
// finishing while the starter watches: from the first change it saw (the
// step becoming train, or an epoch finishing) to the last epoch seen
// finishing, the time per epoch; the time left counts down from there.
// The state seen first is not a start: when it began is unknown.
type etaClock struct {
	seen      bool
	prevStage string
	prevEpoch int
	anchor    time.Time // when the change was seen (zero: none yet)
	from      int       // the epoch then
	epochAt   time.Time // when the last epoch was seen finishing
}

// observe records p, seen at now, and returns the time left if known.
func (c *etaClock) observe(p pipeline.Progress, now time.Time) (time.Duration, bool) {
	if !c.seen {
		c.seen, c.prevStage, c.prevEpoch = true, p.Stage, p.Epoch
		return 0, false
	}
	restarted := p.Epoch < c.prevEpoch // training began again (a retry from scratch, another run)
	if restarted {
		c.anchor = time.Time{} // and when it did is unknown: the next change anchors
	}
	entered := p.Stage == "train" && c.prevStage != "train"
	if c.anchor.IsZero() && !restarted && (entered || p.Epoch != c.prevEpoch) {
		c.anchor, c.from = now, p.Epoch
	}
	if p.Epoch != c.prevEpoch {
		c.epochAt = now
	}
	c.prevStage, c.prevEpoch = p.Stage, p.Epoch
	if c.anchor.IsZero() || p.Epochs <= 0 || p.Epoch <= c.from {
		return 0, false
	}
	per := c.epochAt.Sub(c.anchor) / time.Duration(p.Epoch-c.from)
	return max(per*time.Duration(max(p.Epochs-p.Epoch, 0))-now.Sub(c.epochAt), 0), true
}

// barView draws the progress with progressbar/v3 on one terminal line:
// the bar counts epochs (0% until training reports one), the text after it
// says the step, epoch n/N, the losses and the ETA. The bar appears at the
// first progress; notes before it are plain lines.
type barView struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	max  int // the bar's total: epochs, or 1 while unknown
	desc string
	eta  *etaClock
	now  func() time.Time
}

func (v *barView) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}

// ensure creates the bar (at 0 of 1 until the epochs are known).
func (v *barView) ensure() {
	if v.bar != nil {
		return
	}
	v.max = 1
	v.bar = progressbar.NewOptions(v.max,
		progressbar.OptionSetWriter(v.w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetPredictTime(false), // the ETA is ours: per epoch, from what was seen
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine redrawing behind our back
	)
}

func (v *barView) note(line string) {
	if v.bar == nil {
		fmt.Fprintf(v.w, "  %s\n", line)
		return
	}
	_ = v.bar.Clear()
	fmt.Fprintf(v.w, "  %s\n", line)
	v.bar.Describe(v.desc) // redraws the bar below the line
}

func (v *barView) update(p pipeline.Progress) {
	v.ensure()
	eta, ok := v.eta.observe(p, v.clock())
	v.desc = describeProgress(p, eta, ok)
	v.bar.Describe(v.desc) // first, so that a redraw the count causes shows it
	if p.Epochs > 0 && p.Epochs != v.max {
		v.max = p.Epochs
		v.bar.ChangeMax(v.max)
	}
	if p.Epochs > 0 {
		_ = v.bar.Set(min(p.Epoch, v.max))
	}
}

func (v *barView) finish(status string, ok bool) {
	if v.bar == nil && !ok {
		return
	}
	v.ensure()
	if ok {
		_ = v.bar.Finish()
		v.bar.Describe(strings.ToLower(status))
	} else {
		v.bar.Describe(strings.ToLower(status) + " at " + v.desc)
		_ = v.bar.Exit()
	}
	fmt.Fprintln(v.w)
}

// lineView prints a line whenever the step or the epoch changes.
type lineView struct {
	w    io.Writer
	last string // step and epoch of the last line
	eta  *etaClock
	now  func() time.Time
}

func (v *lineView) note(line string) { fmt.Fprintf(v.w, "  %s\n", line) }

func (v *lineView) update(p pipeline.Progress) {
	now := time.Now()
	if v.now != nil {
		now = v.now()
	}
	eta, ok := v.eta.observe(p, now)
	key := fmt.Sprintf("%s %d/%d", p.Stage, p.Epoch, p.Epochs)
	if key == v.last {
		return
	}
	v.last = key
	fmt.Fprintf(v.w, "  %s\n", describeProgress(p, eta, ok))
}

func (v *lineView) finish(string, bool) {}
