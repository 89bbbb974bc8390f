import assert from "node:assert/strict";
import { parseIpamdConfig } from "../config/mod.ts";
import type { EniDirectory, ImdsPort, SubnetRecord } from "../cloud/mod.ts";
import { silentLogger } from "../../shared/mod.ts";
import { EniPlacement } from "./eni_placement.ts";

const PRIMARY = {
  mac: "02:00:00:00:00:01",
  eniId: "eni-1",
  subnetId: "subnet-0a",
  vpcId: "vpc-1",
  securityGroupIds: ["sg-0e"],
};

function subnet(subnetId: string, fields: Partial<SubnetRecord>): SubnetRecord {
  return {
    subnetId,
    cidr: "10.0.0.0/24",
    availableIps: 100,
    vpcId: "vpc-1",
    zone: "us-east-1a",
    tags: {},
    ...fields,
  };
}

function open(env: Record<string, string>, subnets: SubnetRecord[]) {
  const directory = {
    describeSubnet: (id: string) => Promise.resolve(subnets.find((s) => s.subnetId === id) ?? null),
    describeSubnets: () => Promise.resolve(subnets),
  } as unknown as EniDirectory;
  return EniPlacement.open({
    config: parseIpamdConfig(env),
    directory,
    imds: {} as ImdsPort,
    primary: PRIMARY,
    zone: "us-east-1a",
    log: silentLogger,
  });
}

Deno.test("EniPlacement.open() refuses a custom networking subnet of another VPC, zone or none for the zone", async () => {
  const custom = { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" };
  await assert.rejects(
    open({ ...custom, ENI_CONFIG_SUBNETS: "subnet-0b" }, [subnet("subnet-0b", { vpcId: "vpc-2" })]),
    {
      name: "RangeError",
      message: "ENI_CONFIG_SUBNETS names subnet-0b in vpc-2 us-east-1a, not the node's vpc-1 us-east-1a",
    },
  );
  await assert.rejects(open({ ...custom, ENI_CONFIG_SUBNETS: "us-east-1b=subnet-0b" }, []), {
    message: "ENI_CONFIG_SUBNETS has no subnet for the node's zone us-east-1a",
  });
  await assert.rejects(open({ ...custom, ENI_CONFIG_SUBNETS: "subnet-0c" }, []), {
    message: "ENI_CONFIG_SUBNETS names subnet-0c which EC2 does not know, not the node's vpc-1 us-east-1a",
  });
  const placement = await open({ ...custom, ENI_CONFIG_SUBNETS: "us-east-1a=subnet-0b" }, [
    subnet("subnet-0b", {}),
  ]);
  assert.deepEqual(await placement.place(), { subnetId: "subnet-0b", securityGroupIds: ["sg-0e"] });
});

Deno.test("EniPlacement.place() takes the allowed subnet with the most free addresses, or the primary's", async () => {
  const tagged = (value: string) => ({ tags: { "kubernetes.io/role/cni": value } });
  const subnets = [
    subnet("subnet-0a", { availableIps: 50 }),
    subnet("subnet-0b", { availableIps: 80, ...tagged("1") }),
    subnet("subnet-0c", { availableIps: 900, ...tagged("0") }),
    subnet("subnet-0d", { availableIps: 900 }),
  ];
  assert.equal((await (await open({}, subnets)).place()).subnetId, "subnet-0b");
  assert.equal(
    (await (await open({ ENABLE_SUBNET_DISCOVERY: "false" }, subnets)).place()).subnetId,
    "subnet-0a",
  );
  assert.equal((await (await open({}, subnets.slice(2))).place()).subnetId, "subnet-0a");
});
