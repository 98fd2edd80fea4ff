// Graphs (Dagster's @graph): ops wired once and called in jobs (or other graphs) like an
// op. An op invoked inside a graph is the node `graph.op`, its step key as Dagster names it.

package weft

import (
	"fmt"
	"strings"
)

// Graph is a graph made by [NewGraph].
type Graph struct {
	name  string
	build func(j *Job, in ...any) any
}

// NewGraph makes the graph name: build wires ops on its inputs (each what [Job.Node]
// takes: a *Node, an [Out], or a slice of either) and returns what it gives (a *Node, an
// [Out], or nil).
//
//	var twice = weft.NewGraph("twice", func(j *weft.Job, in ...any) any {
//		return j.Node(addOne, j.Node(addOne, in[0]))
//	})
//	// in a job: twice.Call(j, j.Node(seed)), its nodes twice.add_one and twice.add_one_2
//	// (given as aliases)
func NewGraph(name string, build func(j *Job, in ...any) any) *Graph {
	return &Graph{name: name, build: build}
}

// Alias is the graph under another name (its nodes are then `name.op`), to call it twice.
func (g *Graph) Alias(name string) *Graph {
	return &Graph{name: name, build: g.build}
}

// Call invokes the graph in the job j on inputs and returns what it gives.
func (g *Graph) Call(j *Job, in ...any) any {
	if !isIdentifier(g.name) {
		j.errs = append(j.errs, fmt.Sprintf("%s: graph name %q must be letters, digits and _", j.what(), g.name))
	}
	if g.build == nil {
		j.errs = append(j.errs, fmt.Sprintf("%s: graph `%s` has a nil build function", j.what(), g.name))
		return nil
	}
	outer := j.prefix
	j.prefix = append(append([]string(nil), outer...), g.name)
	defer func() { j.prefix = outer }()
	return g.build(j, in...)
}

// qualified is name under the graphs prefix: `outer.inner.name`.
func qualified(prefix []string, name string) string {
	return strings.Join(append(append([]string(nil), prefix...), name), ".")
}
