/** Peak resident memory of this process in MB (VmHWM on Linux, not the maxRSS an exec inherits). */
export declare function peakRssMb(): number;
