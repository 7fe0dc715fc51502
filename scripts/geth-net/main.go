// geth-net starts a small network of go-ethereum p2p servers on 127.0.0.1 so
// that the ethp2p crawler can be checked by hand against real geth discovery
// (discv4 + discv5 on one UDP port) and real geth RLPx/devp2p handshakes.
// It is a manual tool only; see README.md for how to build it.
package main

import (
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/forkid"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

// Mainnet genesis hash and its total difficulty (difficulty of block 0).
var (
	mainnetGenesis = common.HexToHash("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
	genesisTD      = big.NewInt(17179869184)
)

const (
	ethMsgCount   = 17 // eth/66..68 message codes 0x00..0x10
	statusMsgCode = 0x00
	networkID     = 1
)

// statusMsg is the eth Status message body (same field order as on the wire).
type statusMsg struct {
	ProtocolVersion uint32
	NetworkID       uint64
	TD              *big.Int
	Head            common.Hash
	Genesis         common.Hash
	ForkID          forkid.ID
}

// ethRecordEntry is the "eth" key of a node record: [[forkHash, forkNext]].
type ethRecordEntry struct {
	ForkID forkid.ID
	Rest   []rlp.RawValue `rlp:"tail"`
}

func (ethRecordEntry) ENRKey() string { return "eth" }

// ethProtocol is a minimal eth/<version> (66, 67 or 68: their Status is the same):
// it sends our Status, then reads and drops messages until the peer goes.
func ethProtocol(version uint, fid forkid.ID, id int) p2p.Protocol {
	return p2p.Protocol{
		Name:    "eth",
		Version: version,
		Length:  ethMsgCount,
		Run: func(peer *p2p.Peer, rw p2p.MsgReadWriter) error {
			st := statusMsg{
				ProtocolVersion: uint32(version),
				NetworkID:       networkID,
				TD:              genesisTD,
				Head:            mainnetGenesis,
				Genesis:         mainnetGenesis,
				ForkID:          fid,
			}
			if err := p2p.Send(rw, statusMsgCode, &st); err != nil {
				log.Debug("geth-net: status send failed", "node", id, "peer", peer.ID(), "err", err)
				return err
			}
			for {
				msg, err := rw.ReadMsg()
				if err != nil {
					log.Debug("geth-net: peer gone", "node", id, "peer", peer.ID(), "err", err)
					return err
				}
				if msg.Code == statusMsgCode {
					var their statusMsg
					if err := msg.Decode(&their); err != nil {
						log.Warn("geth-net: bad status from peer", "node", id, "peer", peer.ID(), "name", peer.Name(), "err", err)
						return err
					}
					log.Debug("geth-net: status received", "node", id, "peer", peer.ID(), "name", peer.Name(),
						"version", their.ProtocolVersion, "network", their.NetworkID, "forkid", fmt.Sprintf("%x/%d", their.ForkID.Hash, their.ForkID.Next))
					continue
				}
				msg.Discard()
			}
		},
	}
}

func main() {
	var (
		n        = flag.Int("n", 50, "number of p2p servers to start")
		basePort = flag.Int("port", 30400, "TCP/UDP port of node 0; node i uses port+i")
		duration = flag.Duration("duration", 300*time.Second, "how long to run before stopping all servers")
		maxPeers = flag.Int("maxpeers", 25, "MaxPeers of every server")
		verb     = flag.Int("verbosity", 2, "log level on stderr (0=crit 1=error 2=warn 3=info 4=debug 5=trace)")
		ethVers  = flag.String("eth", "66", "comma-separated eth versions to offer (66, 67, 68; mid-2021 geth had only 66)")
	)
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "-n must be at least 1")
		os.Exit(2)
	}
	var versions []uint
	for _, v := range strings.Split(*ethVers, ",") {
		x, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil || x < 66 || x > 68 {
			fmt.Fprintf(os.Stderr, "-eth: bad version %q (66, 67 or 68)\n", v)
			os.Exit(2)
		}
		versions = append(versions, uint(x))
	}
	log.Root().SetHandler(log.LvlFilterHandler(log.Lvl(*verb), log.StreamHandler(os.Stderr, log.TerminalFormat(false))))

	fid := forkid.NewID(params.MainnetChainConfig, mainnetGenesis, 0)
	log.Warn("geth-net starting", "nodes", *n, "eth", *ethVers, "forkid", fmt.Sprintf("%x/%d", fid.Hash, fid.Next))

	servers := make([]*p2p.Server, 0, *n)
	stopAll := func() {
		for _, s := range servers {
			s.Stop()
		}
	}
	var boot *enode.Node
	for i := 0; i < *n; i++ {
		key, err := crypto.GenerateKey()
		if err != nil {
			fmt.Fprintln(os.Stderr, "key generation:", err)
			stopAll()
			os.Exit(1)
		}
		var protos []p2p.Protocol
		for _, v := range versions {
			protos = append(protos, ethProtocol(v, fid, i))
		}
		cfg := p2p.Config{
			PrivateKey:  key,
			MaxPeers:    *maxPeers,
			NoDial:      false,
			DiscoveryV5: true,
			Name:        fmt.Sprintf("Geth/gethnet%d/v1.10.6-stable/%s-%s/%s", i, runtime.GOOS, runtime.GOARCH, runtime.Version()),
			ListenAddr:  fmt.Sprintf("127.0.0.1:%d", *basePort+i),
			Protocols:   protos,
			Logger:      log.Root().New("node", i),
		}
		if boot != nil {
			cfg.BootstrapNodes = []*enode.Node{boot}
			cfg.BootstrapNodesV5 = []*enode.Node{boot}
		}
		srv := &p2p.Server{Config: cfg}
		if err := srv.Start(); err != nil {
			fmt.Fprintf(os.Stderr, "starting node %d: %v\n", i, err)
			stopAll()
			os.Exit(1)
		}
		srv.LocalNode().Set(ethRecordEntry{ForkID: fid})
		servers = append(servers, srv)
		if i == 0 {
			boot = srv.Self()
			fmt.Println(boot.URLv4())
			fmt.Println(boot.String())
			os.Stdout.Sync()
		}
	}
	log.Warn("geth-net: all servers started", "nodes", len(servers))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	ticker := time.NewTicker(30 * time.Second)
	defer ticker.Stop()
	deadline := time.After(*duration)
loop:
	for {
		select {
		case <-deadline:
			break loop
		case s := <-sig:
			log.Warn("geth-net: signal, stopping", "signal", s)
			break loop
		case <-ticker.C:
			total := 0
			for _, s := range servers {
				total += s.PeerCount()
			}
			log.Warn("geth-net: status", "nodes", len(servers), "peerConns", total, "node0Peers", servers[0].PeerCount(),
				"v5Unlisted", v5Unlisted(servers))
		}
	}
	stopAll()
	log.Warn("geth-net: stopped")
}

// v5Unlisted names the TCP ports of the servers that no other server's discv5
// table holds: a crawler walking discv5 tables alone cannot find those.
// (go-ethereum exposes no such view of the discv4 table.)
func v5Unlisted(servers []*p2p.Server) []int {
	listed := make(map[enode.ID]bool)
	for _, s := range servers {
		if s.DiscV5 == nil {
			continue
		}
		for _, n := range s.DiscV5.AllNodes() {
			listed[n.ID()] = true
		}
	}
	var ports []int
	for _, s := range servers {
		if self := s.Self(); !listed[self.ID()] {
			ports = append(ports, self.TCP())
		}
	}
	return ports
}
