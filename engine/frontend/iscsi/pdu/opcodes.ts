/** iSCSI opcodes (RFC 7143 §11.1.1), the low 6 bits of BHS byte 0. */
export const Opcode = {
  NopOut: 0x00, // NOP-Out (RFC 7143 §11.18)
  ScsiCommand: 0x01, // SCSI Command (RFC 7143 §11.3)
  TaskMgmtRequest: 0x02, // SCSI Task Management Function Request (RFC 7143 §11.5)
  LoginRequest: 0x03, // Login Request (RFC 7143 §11.12)
  TextRequest: 0x04, // Text Request (RFC 7143 §11.10)
  DataOut: 0x05, // SCSI Data-Out (RFC 7143 §11.7)
  LogoutRequest: 0x06, // Logout Request (RFC 7143 §11.14)
  SnackRequest: 0x10, // SNACK Request (RFC 7143 §11.16)
  NopIn: 0x20, // NOP-In (RFC 7143 §11.19)
  ScsiResponse: 0x21, // SCSI Response (RFC 7143 §11.4)
  TaskMgmtResponse: 0x22, // SCSI Task Management Function Response (RFC 7143 §11.6)
  LoginResponse: 0x23, // Login Response (RFC 7143 §11.13)
  TextResponse: 0x24, // Text Response (RFC 7143 §11.11)
  DataIn: 0x25, // SCSI Data-In (RFC 7143 §11.7)
  LogoutResponse: 0x26, // Logout Response (RFC 7143 §11.15)
  R2T: 0x31, // Ready To Transfer (RFC 7143 §11.8)
  AsyncMessage: 0x32, // Asynchronous Message (RFC 7143 §11.9)
  Reject: 0x3f, // Reject (RFC 7143 §11.17)
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Reject reasons (RFC 7143 §11.17.1). */
export const RejectReason = {
  DataDigestError: 0x02, // Data (payload) digest error
  SnackReject: 0x03, // SNACK Reject
  ProtocolError: 0x04, // Protocol Error (e.g., SNACK Request for a status that was already acknowledged)
  CommandNotSupported: 0x05, // Command not supported
  ImmediateCommandReject: 0x06, // Immediate command reject — too many immediate commands
  TaskInProgress: 0x07, // Task in progress
  InvalidDataAck: 0x08, // Invalid data ack
  InvalidPduField: 0x09, // Invalid PDU field
  LongOperationReject: 0x0a, // Long op reject — can't generate Target Transfer Tag — out of resources
  WaitingForLogout: 0x0c, // Waiting for Logout
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** Login status class and detail, as one 16-bit value (RFC 7143 §11.13.5). */
export const LoginStatus = {
  Success: 0x0000, // Success
  InitiatorError: 0x0200, // Initiator error (miscellaneous)
  AuthenticationFailure: 0x0201, // Authentication failure
  AuthorizationFailure: 0x0202, // Authorization failure
  NotFound: 0x0203, // Not found
  TargetRemoved: 0x0204, // Target removed
  UnsupportedVersion: 0x0205, // Unsupported version
  TooManyConnections: 0x0206, // Too many connections
  MissingParameter: 0x0207, // Missing parameter
  CantIncludeInSession: 0x0208, // Can't include in session
  SessionTypeNotSupported: 0x0209, // Session type not supported
  SessionDoesNotExist: 0x020a, // Session does not exist
  InvalidDuringLogin: 0x020b, // Invalid request type during login
  TargetError: 0x0300, // Target error (miscellaneous)
  ServiceUnavailable: 0x0301, // Service unavailable
  OutOfResources: 0x0302, // Out of resources
} as const;
export type LoginStatus = (typeof LoginStatus)[keyof typeof LoginStatus];

/** Login stages, the CSG/NSG values (RFC 7143 §11.12.3). */
export const Stage = {
  Security: 0, // SecurityNegotiation
  Operational: 1, // LoginOperationalNegotiation
  FullFeature: 3, // FullFeaturePhase
} as const;

/** Task management function codes (RFC 7143 §11.5.1). */
export const TmfFunction = {
  AbortTask: 1, // ABORT TASK
  AbortTaskSet: 2, // ABORT TASK SET
  ClearAca: 3, // CLEAR ACA
  ClearTaskSet: 4, // CLEAR TASK SET
  LogicalUnitReset: 5, // LOGICAL UNIT RESET
  TargetWarmReset: 6, // TARGET WARM RESET
  TargetColdReset: 7, // TARGET COLD RESET
  TaskReassign: 8, // TASK REASSIGN
} as const;

/** Task management responses (RFC 7143 §11.6.1). */
export const TmfResponse = {
  FunctionComplete: 0, // Function complete
  TaskDoesNotExist: 1, // Task does not exist
  LunDoesNotExist: 2, // LUN does not exist
  TaskStillAllegiant: 3, // Task still allegiant
  ReassignmentNotSupported: 4, // Task allegiance reassignment not supported
  NotSupported: 5, // Task management function not supported
  AuthorizationFailed: 6, // Function authorization failed
  Rejected: 255, // Function rejected
} as const;

/** Logout reasons (RFC 7143 §11.14.1) and responses (§11.15.1). */
export const LogoutReason = { CloseSession: 0, CloseConnection: 1, RemoveForRecovery: 2 } as const;
export const LogoutResponse = { Closed: 0, CidNotFound: 1, RecoveryNotSupported: 2, CleanupFailed: 3 } as const;

/** The reserved tag value 0xffffffff (RFC 7143 §11.18.2/§11.19.1). */
export const NO_TAG = 0xffffffff;
