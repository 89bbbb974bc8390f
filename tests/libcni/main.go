// Command libcni-driver runs a conflist through Debian's libcni (the CNI
// runtime library), as containerd or CRI-O would:
//
//	libcni-driver add|check|del <conflist> <containerID> <netns> <ifname> <cacheDir>
//
// Plugins are found in $CNI_PATH. The pod is default/libcni-pod and asks for
// one port mapping (8080 -> 80/tcp), so portmap has work to do. "add" prints
// the final result JSON; failures go to stderr with exit status 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
)

func run(args []string) error {
	if len(args) != 6 {
		return fmt.Errorf("usage: libcni-driver add|check|del <conflist> <containerID> <netns> <ifname> <cacheDir>")
	}
	op, confPath, containerID, netns, ifName, cacheDir := args[0], args[1], args[2], args[3], args[4], args[5]
	list, err := libcni.ConfListFromFile(confPath)
	if err != nil {
		return err
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), cacheDir, nil)
	rt := &libcni.RuntimeConf{
		ContainerID: containerID,
		NetNS:       netns,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", "default"},
			{"K8S_POD_NAME", "libcni-pod"},
			{"K8S_POD_INFRA_CONTAINER_ID", containerID},
		},
		CapabilityArgs: map[string]interface{}{
			"portMappings": []map[string]interface{}{
				{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
			},
		},
	}
	ctx := context.Background()
	switch op {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			return err
		}
		out, err := json.Marshal(result)
		if err != nil {
			return err
		}
		fmt.Println(string(out))
		return nil
	case "check":
		return cni.CheckNetworkList(ctx, list, rt)
	case "del":
		return cni.DelNetworkList(ctx, list, rt)
	}
	return fmt.Errorf("unknown operation %q", op)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
