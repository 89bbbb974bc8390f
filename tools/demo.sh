#!/usr/bin/env bash
# `make demo`: aws-cni in under a minute.
#  1. How the warm pool settles for the reference documentation's examples (`aws-cni plan`).
#  2. As root: a network namespace made for the node, the simulated cloud of a t3.small in it
#     (sim/cloud: EC2 and IMDS on loopback, 300 ms attaches, each attached ENI hot-plugged as a
#     link), and ipamd (`aws-cni --daemon`) against it exactly as on a node; pods created and
#     deleted through the CNI plugin exactly as kubelet runs it; `aws-cni status` as the pool
#     grows and shrinks. aws-cni may only use
#     its own directories (deno.json permissions), so this part runs in a mount namespace
#     with empty private ones (/run/aws-node, /var/log/aws-routed-eni, /etc/cni/net.d) and
#     the default paths. Everything the demo makes is removed on exit, even on Ctrl-C.
# Without root only part 1 runs (DEMO_NO_ROOT=1 forces that path).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/dist/aws-cni
deno=$PWD/.tools/bin/deno
if [ ! -x "$bin" ]; then
  echo "demo: $bin is missing; run \`make build\` first" >&2
  exit 1
fi

section() { printf '\n=== %s ===\n\n' "$*"; }

if [ -z "${DEMO_SKIP_PLAN:-}" ]; then
section "1. The warm pool, settled for each pod count (aws-cni plan; docs/eni-and-ip-target.md)"
"$bin" plan --instance-type t3.small --warm-eni-target 1 --pods 0,5,9
echo
"$bin" plan --instance-type t3.small --warm-ip-target 2 --minimum-ip-target 5 --pods 0,5,9 | tail -n +3
echo
"$bin" plan --instance-type p3dn.24xlarge --warm-eni-target 1 --pods 0,3,95
echo
"$bin" plan --instance-type p3dn.24xlarge --warm-ip-target 5 --minimum-ip-target 10 --pods 0,7,15,45 |
  tail -n +3
fi

if [ "$(id -u)" -ne 0 ] || [ -n "${DEMO_NO_ROOT:-}" ]; then
  section "2. Skipped: ipamd and pods on a simulated node"
  echo "The live part runs ipamd in a network namespace of its own and wires pods into"
  echo "namespaces with the CNI plugin; making namespaces needs root. Run: sudo make demo"
  exit 0
fi

state_dirs=(/run/aws-node /var/log/aws-routed-eni /etc/cni/net.d)
if [ -z "${AWS_CNI_DEMO_PRIVATE:-}" ]; then
  # The private mounts need their mount points; those the host lacks are made here and removed after,
  # deepest first, so the demo leaves the host as it found it.
  made=()
  for d in "${state_dirs[@]}"; do
    while [ ! -e "$d" ]; do made=("$d" "${made[@]}"); d=$(dirname "$d"); done
  done
  mkdir -p "${state_dirs[@]}"
  # Part 2 again, in a mount namespace of its own (nothing mounted there shows outside).
  code=0
  AWS_CNI_DEMO_PRIVATE=1 DEMO_SKIP_PLAN=1 unshare --mount --propagation slave bash "$0" "$@" || code=$?
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do rmdir "${made[i]}" 2>/dev/null || true; done
  exit "$code"
fi
for d in "${state_dirs[@]}"; do mount -t tmpfs -o mode=0755 aws-cni-demo "$d"; done

tag=awscni-demo-$$
node=$tag-node
dir=$(mktemp -d /tmp/aws-cni-demo.XXXXXX)
pods=()
daemon_pid=
cloud_pid=
cleanup() {
  set +e
  for pid in "$daemon_pid" "$cloud_pid"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for pod in "${pods[@]}"; do ip netns del "$pod" 2>/dev/null; done
  ip netns del "$node" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns add "$node" 2>"$dir/netns.err"; then
  section "2. Skipped: ipamd and pods on a simulated node"
  echo "ip netns add failed: $(cat "$dir/netns.err")"
  exit 0
fi
ip -n "$node" link set lo up
# An EKS node forwards IPv4 (its AMI turns it on); a new namespace does not, and pods reach each other
# through the node.
ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1

section "2. ipamd on a simulated t3.small in network namespace $node"
# The simulated cloud stands in for the instance: it serves EC2 and IMDS on loopback in the node's
# namespace and plugs each ENI it attaches as a link there (a veth whose other end is its "VPC").
echo "deno run -A sim/cloud/main.ts --instance-type t3.small --attach-latency-ms 300 --detach-latency-ms 300"
ip netns exec "$node" "$deno" run -A --quiet --frozen sim/cloud/main.ts --instance-type t3.small \
  --attach-latency-ms 300 --detach-latency-ms 300 --control "$dir/cloud.sock" \
  </dev/null >"$dir/cloud.out" 2>"$dir/cloud.log" &
cloud_pid=$!
for _ in $(seq 1 150); do
  [ -s "$dir/cloud.out" ] && break
  if ! kill -0 "$cloud_pid" 2>/dev/null; then
    echo "demo: the simulated cloud exited:" >&2
    cat "$dir/cloud.log" >&2
    cloud_pid=
    exit 1
  fi
  sleep 0.2
done
ready=$(head -n 1 "$dir/cloud.out")
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$ready"; }
cloud_env=(AWS_EC2_ENDPOINT="$(field ec2Endpoint)" AWS_EC2_METADATA_SERVICE_ENDPOINT="$(field imdsEndpoint)"
  AWS_ACCESS_KEY_ID=AKIDSIMULATEDCLOUD00 AWS_SECRET_ACCESS_KEY=simulated-cloud-secret)
echo "it serves: ${cloud_env[*]:0:2}; instance $(field instanceId), primary ENI $(field primaryMac) on eth0"
echo
# The settings make the pool grow and shrink within the demo: 2 spare IPs, at least 3,
# released pod IPs rest 3 s, and no scale-down window.
settings=(WARM_IP_TARGET=2 MINIMUM_IP_TARGET=3 IP_COOLDOWN_PERIOD=3 POOL_SCALE_DOWN_WINDOW=0
  AWS_VPC_K8S_CNI_LOGLEVEL=INFO)
echo "env ${settings[*]:0:4} AWS_EC2_ENDPOINT=… AWS_EC2_METADATA_SERVICE_ENDPOINT=…"
echo "aws-cni --daemon --write-conflist /etc/cni/net.d"
ip netns exec "$node" env "${settings[@]}" "${cloud_env[@]}" "$bin" --daemon --write-conflist /etc/cni/net.d \
  </dev/null >"$dir/daemon.out" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 150); do
  [ -f /etc/cni/net.d/10-aws.conflist ] && break
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "demo: ipamd exited:" >&2
    cat "$dir/daemon.out" >&2
    daemon_pid=
    exit 1
  fi
  sleep 0.2
done
if [ ! -f /etc/cni/net.d/10-aws.conflist ]; then
  echo "demo: ipamd did not become ready within 30 s" >&2
  exit 1
fi
echo
echo "ipamd serves; it wrote the conflist kubelet waits for (/etc/cni/net.d/10-aws.conflist):"
cat /etc/cni/net.d/10-aws.conflist

status() {
  echo
  echo "\$ aws-cni status"
  ip netns exec "$node" "$bin" status
}

netconf='{"cniVersion":"1.0.0","name":"aws-cni","type":"aws-cni","vethPrefix":"eni","mtu":"9001","pluginLogLevel":"DEBUG"}'
cni() { # cni ADD|DEL <n>
  ip netns exec "$node" env CNI_COMMAND="$1" CNI_CONTAINERID="demo-$2" CNI_NETNS="/run/netns/$tag-pod$2" \
    CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-$2" "$bin" <<<"$netconf"
}

status
section "3. Five pods arrive (CNI_COMMAND=ADD, as kubelet runs the plugin)"
for i in 1 2 3 4 5; do
  ip netns add "$tag-pod$i"
  pods+=("$tag-pod$i")
  started=$(date +%s%N)
  result=$(cni ADD "$i")
  ms=$((($(date +%s%N) - started) / 1000000))
  ip_addr=$(grep -o '"address": *"[^"]*"' <<<"$result" | head -n 1 | cut -d'"' -f4)
  echo "pod web-$i: $ip_addr in $ms ms"
done
status
echo
echo "the ENIs' links the simulated cloud plugged in the node namespace:"
ip -n "$node" -br link | grep -v '^lo ' | grep -v '^eni' || true
echo "(On EC2 each ENI is one of the instance's NICs. Here the simulated cloud plugs a stand-in for each"
echo " attached ENI: a veth with the ENI's MAC whose other end sits in the cloud's own \"VPC\" namespace,"
echo " so nothing leaves this machine. ipamd finds it by its MAC and sets it up as it would the NIC: the"
echo " addresses, a route table per ENI and the rules that send each pod's traffic out of its ENI.)"

section "3b. The pods reach each other and the node"
pod_ip() { ip -n "$tag-pod$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
node_ip=$(field primaryAddress | cut -d/ -f1)
reach() { # reach <from pod> <address> <what>
  if ip netns exec "$tag-pod$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; then
    echo "pod web-$1 -> $3 ($2): reached"
  else
    echo "pod web-$1 -> $3 ($2): NOT reached" >&2
    exit 1
  fi
}
reach 1 "$(pod_ip 2)" "pod web-2"
reach 5 "$(pod_ip 1)" "pod web-1 (its address is on another ENI)"
reach 1 "$node_ip" "the node (the primary ENI's address)"

section "4. Four pods go (CNI_COMMAND=DEL); their IPs cool down 3 s, then the pool shrinks"
for i in 2 3 4 5; do
  cni DEL "$i" >/dev/null
  ip netns del "$tag-pod$i"
  echo "pod web-$i deleted"
done
status
held() { ip netns exec "$node" "$bin" status --json | grep -m 1 -o '"total": *[0-9]*' | grep -o '[0-9]*$'; }
echo
echo "waiting for ipamd to give the spare IPs back (one release per 30 s, as the reference spaces them) ..."
started=$SECONDS
while [ "$(held)" -gt 3 ] && [ $((SECONDS - started)) -lt 40 ]; do sleep 2; done
echo "$((SECONDS - started)) s later:"
status
echo
echo "(ENIs younger than a minute are kept even when empty; ipamd frees them once they are older.)"

section "5. Cleaning up"
cni DEL 1 >/dev/null
echo "pod web-1 deleted; stopping ipamd and the simulated cloud, and removing the namespaces"
