package hpo

import "sort"

// Best returns the unpruned trial with the lowest finite value; on a tie
// the earlier one in history. ok is false when there is none.
func Best(history []Observation) (best Observation, ok bool) {
	for _, o := range history {
		if o.Pruned || !finite(o.Value) {
			continue
		}
		if !ok || o.Value < best.Value {
			best, ok = o, true
		}
	}
	return best, ok
}

// ranked orders the history best first, as TPE splits it (Optuna's
// ranking): finished trials by value; then pruned trials, the ones that got
// further first and, at equal depth, by the value they reached — a pruned
// trial was worse than the median at its epoch, so it ranks below every
// finished one; last the trials with a NaN or infinite value (diverged),
// which are evidence of a bad region too. Ties keep history order. It also
// returns how many of them have a finite value.
func ranked(history []Observation) ([]Observation, int) {
	obs := append([]Observation(nil), history...)
	class := func(o Observation) int {
		switch {
		case !finite(o.Value):
			return 2
		case o.Pruned:
			return 1
		}
		return 0
	}
	sort.SliceStable(obs, func(i, j int) bool {
		a, b := obs[i], obs[j]
		ca, cb := class(a), class(b)
		switch {
		case ca != cb:
			return ca < cb
		case ca == 2:
			return false
		case ca == 1 && a.Step != b.Step:
			return a.Step > b.Step
		}
		return a.Value < b.Value
	})
	n := 0
	for _, o := range obs {
		if finite(o.Value) {
			n++
		}
	}
	return obs, n
}
