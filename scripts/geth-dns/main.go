// geth-dns syncs an EIP-1459 tree with go-ethereum's own DNS discovery client
// (p2p/dnsdisc), asking one given DNS server, so that a tree signed by
// `ethp2p dns sign` can be checked against geth by hand. It prints the tree's
// seq, node and link counts, syncs each linked tree the same way, and with
// -nodes checks that every node of a nodes.json is in the tree. Exit status 1
// when a sync fails or a node of nodes.json is missing. See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/p2p/dnsdisc"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

// resolverFor is Go's own DNS resolver with every query sent to server
// (host:port), over UDP or, for truncated answers, TCP, as the resolver picks.
func resolverFor(server string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}

func main() {
	server := flag.String("server", "127.0.0.1:53", "DNS server to ask, host:port")
	nodesFile := flag.String("nodes", "", "nodes.json whose every node must be in the tree")
	timeout := flag.Duration("timeout", 5*time.Second, "per DNS lookup")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: geth-dns [-server host:port] [-nodes nodes.json] enrtree://KEY@DOMAIN")
		os.Exit(2)
	}
	client := dnsdisc.NewClient(dnsdisc.Config{
		Timeout:   *timeout,
		RateLimit: 1000,
		Resolver:  resolverFor(*server),
	})

	url := flag.Arg(0)
	tree, err := client.SyncTree(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sync %s: %v\n", url, err)
		os.Exit(1)
	}
	fmt.Printf("%s: seq %d, %d nodes, %d links\n", url, tree.Seq(), len(tree.Nodes()), len(tree.Links()))
	failed := false
	for _, link := range tree.Links() {
		lt, err := client.SyncTree(link)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sync %s: %v\n", link, err)
			failed = true
			continue
		}
		fmt.Printf("%s: seq %d, %d nodes, %d links\n", link, lt.Seq(), len(lt.Nodes()), len(lt.Links()))
	}

	if *nodesFile != "" {
		missing, total, err := missingNodes(*nodesFile, tree.Nodes())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d of %d nodes synced\n", *nodesFile, total-len(missing), total)
		for _, id := range missing {
			fmt.Printf("missing %s\n", id)
		}
		failed = failed || len(missing) > 0
	}
	if failed {
		os.Exit(1)
	}
}

// missingNodes lists the nodes of a nodes.json (geth's layout: ID → {seq,
// record}) whose record, at that seq or later, is not among synced.
func missingNodes(file string, synced []*enode.Node) ([]string, int, error) {
	text, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	var set map[enode.ID]struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(text, &set); err != nil {
		return nil, 0, fmt.Errorf("%s: %v", file, err)
	}
	have := make(map[enode.ID]uint64, len(synced))
	for _, n := range synced {
		have[n.ID()] = n.Seq()
	}
	var missing []string
	for id, e := range set {
		if seq, ok := have[id]; !ok || seq < e.Seq {
			missing = append(missing, id.String())
		}
	}
	return missing, len(set), nil
}
