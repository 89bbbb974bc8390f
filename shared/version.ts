/** The product version, printed by `aws-cni version` and reported to ipamd. */
export const VERSION = "0.1.0";

/** CNI spec versions the plugin speaks. */
export const CNI_VERSIONS = ["0.4.0", "1.0.0", "1.1.0"] as const;
