/** One application the terminal accepts, with the kernel that processes it (EMV Book B 3.1.1). */
export interface SupportedApplication {
  /** The AID, or its leading bytes (partial selection: A0000000031010 also takes A000000003101001). */
  readonly aid: string;
  readonly kernel: 'qvsdc' | 'mchip';
}

/** The kernel configuration (EMV Book A 5.7, Book B 3.1): what the terminal is, and its limits. */
export interface KernelConfig {
  /** 9F1A, terminal country code (ISO 3166 numeric), 4 digits: '0250'. */
  readonly country: string;
  /** 5F2A, transaction currency code (ISO 4217 numeric), 4 digits: '0978'. */
  readonly currency: string;
  /** 9F35, terminal type (EMV Book 4 A1): '22' attended, merchant-operated, online only. */
  readonly terminalType: string;
  /** 9F33, terminal capabilities (EMV Book 4 A2), 6 hex digits. */
  readonly capabilities: string;
  /** Reader contactless transaction limit, minor units: at or above it, contactless is not allowed. */
  readonly contactlessTransactionLimit: number;
  /** Reader CVM required limit, minor units: at or above it, the cardholder must be verified. */
  readonly cvmRequiredLimit: number;
  readonly applications: readonly SupportedApplication[];
  /** At or above the CVM limit without CDCVM: ask the wearer to verify on the device, or decline. */
  readonly noCdcvmAboveLimit: 'see-phone' | 'decline';
}

export const defaultKernelConfig: KernelConfig = {
  country: '0250',
  currency: '0978',
  terminalType: '22',
  capabilities: '0068C8',
  contactlessTransactionLimit: 1_000_000,
  cvmRequiredLimit: 5_000,
  applications: [
    { aid: 'A0000000031010', kernel: 'qvsdc' },
    { aid: 'A0000000041010', kernel: 'mchip' },
  ],
  noCdcvmAboveLimit: 'see-phone',
};
