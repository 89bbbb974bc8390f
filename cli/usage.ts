import { CNI_VERSIONS, VERSION } from "../shared/mod.ts";

/** The text printed by `aws-cni help`, and on stderr for a call it cannot place. */
export const USAGE = `aws-cni ${VERSION}: the AWS VPC CNI for Kubernetes nodes, in one binary

Roles:
  CNI_COMMAND=ADD|DEL|CHECK|VERSION|GC|STATUS aws-cni < netconf
                          the CNI plugin, as kubelet runs it from /opt/cni/bin
  aws-cni --daemon        ipamd, the node daemon that keeps the warm pool

Commands:
  aws-cni plan --instance-type T --pods A,B,C [settings] [--json]
                          show how the warm pool settles for each pod count
  aws-cni replay --instance-type T (--scenario burst|churn|launch | --trace FILE) [--policy aws-cni|reference]
                          forecast EC2 calls, idle addresses and pod waits in simulated time
  aws-cni status [--json] the pool as ipamd sees it: ENIs, targets, next action, EC2 errors
  aws-cni install [--prefix DIR] [--write-conflist]
                          install the binary, conflist, systemd unit and env file
  aws-cni uninstall [--prefix DIR]
                          remove what install wrote
  aws-cni version         print the version
  aws-cni help            print this text

CNI spec versions: ${CNI_VERSIONS.join(", ")}
`;
