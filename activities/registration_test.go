package activities

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/internal/steps"
)

// recorder keeps what was registered on it, by name.
type recorder struct {
	worker.Registry
	names []string
	fns   map[string]any
}

func (r *recorder) RegisterActivityWithOptions(fn any, o activity.RegisterOptions) {
	if r.fns == nil {
		r.fns = map[string]any{}
	}
	r.names = append(r.names, o.Name)
	r.fns[o.Name] = fn
}

// Every step is registered once, under its name in the contract, and that
// name is its method's: the name the worker registered it by when it
// registered the Activities struct, which recorded histories hold.
func TestRegisterUsesTheContractNames(t *testing.T) {
	var r recorder
	Register(&r, &Activities{})
	got, want := slices.Sorted(slices.Values(r.names)), slices.Sorted(slices.Values(steps.Names()))
	if !slices.Equal(got, want) {
		t.Fatalf("registered %v, want the contract's %v", got, want)
	}
	var methods []string
	typ := reflect.TypeOf(&Activities{})
	for i := range typ.NumMethod() {
		methods = append(methods, typ.Method(i).Name)
	}
	if !slices.Equal(got, methods) {
		t.Fatalf("registered %v, but the exported methods of Activities are %v", got, methods)
	}
	for _, s := range (&Activities{}).all() {
		full := runtime.FuncForPC(reflect.ValueOf(s.method).Pointer()).Name() // ...(*Activities).Train-fm
		if method := strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm"); method != s.name {
			t.Errorf("%s is registered as %q", full, s.name)
		}
		if _, ok := r.fns[s.name]; !ok {
			t.Errorf("%s is not registered", s.name)
		}
	}
}

func TestRegisterTrainingOnlyTheGPUSteps(t *testing.T) {
	var r recorder
	RegisterTraining(&r, &Activities{})
	if want := []string{steps.Train, steps.TrainTrial, steps.Evaluate, steps.Compare, steps.BacktestScore}; !slices.Equal(r.names, want) {
		t.Fatalf("registered %v, want %v", r.names, want)
	}
}
