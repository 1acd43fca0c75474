package manifest

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// Tags and shapes: refusing what YAML offers and cronrelay does not
// process (tags beyond YAML's own schema), and naming a node in messages.

// knownTags are the tags of YAML's own schema, which only say how to read a
// value (!!str 0123). Any other tag (!secret, !env) asks for processing
// cronrelay does not do, so it is refused rather than silently dropped.
var knownTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!binary": true, "!!timestamp": true, "!!map": true, "!!seq": true, "!!merge": true,
}

// pathSeg is one step of a key path: a mapping key, or a list index.
type pathSeg struct {
	key   string
	index int // -1 for a mapping key
}

// segPath writes segs as the key paths of messages: jobs.x.body.list[2].
func segPath(segs []pathSeg) string {
	path := ""
	for _, s := range segs {
		if s.index >= 0 {
			path = diag.Index(path, s.index)
		} else {
			path = diag.Key(path, s.key)
		}
	}
	return path
}

// rejectUnsupported reports every alias and every unknown tag; it returns
// true if there was one. Aliases are refused outright so that no document
// can expand beyond its size, whatever later code does with the nodes.
func (p *parser) rejectUnsupported(root *yaml.Node) bool {
	found := false
	// segs is the path of n; children append to it and the slot is reused
	// by the next sibling, so the walk allocates no path per node. The
	// depth is bounded by yaml.v3's own limit.
	var walk func(n *yaml.Node, segs []pathSeg)
	walk = func(n *yaml.Node, segs []pathSeg) {
		if n.Kind == yaml.AliasNode {
			p.errorf(n, "", "YAML aliases (*%s) are not supported; put shared settings under defaults", n.Value)
			found = true
			return
		}
		if tag := n.ShortTag(); !knownTags[tag] {
			p.errorf(n, orTop(segPath(segs)), "unknown YAML tag %q; tags are not supported", tag)
			found = true
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				kn, vn := n.Content[i], n.Content[i+1]
				child := segs
				if kn.Kind == yaml.ScalarNode {
					child = append(segs, pathSeg{key: kn.Value, index: -1})
				}
				walk(kn, child)
				walk(vn, child)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(item, append(segs, pathSeg{index: i}))
			}
		default:
			for _, c := range n.Content {
				walk(c, segs)
			}
		}
	}
	walk(root, nil)
	return found
}

// describe names the YAML type of n for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	case "!!binary":
		// The text of a !!binary value is its base64 encoding; calling it
		// a string would contradict "must be a string".
		return "a !!binary value"
	}
	return fmt.Sprintf("the string %q", diag.Truncate(n.Value, 40))
}
