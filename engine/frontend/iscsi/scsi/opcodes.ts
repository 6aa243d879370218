/** SCSI operation codes this logical unit knows (SPC-4 / SBC-3 / SBC-4 command sets). */
export const Op = {
  TestUnitReady: 0x00, // TEST UNIT READY (SPC-4)
  RequestSense: 0x03, // REQUEST SENSE (SPC-4)
  Read6: 0x08, // READ (6) (SBC-3)
  Write6: 0x0a, // WRITE (6) (SBC-3)
  Inquiry: 0x12, // INQUIRY (SPC-4)
  ModeSelect6: 0x15, // MODE SELECT (6) (SPC-4)
  Reserve6: 0x16, // RESERVE (6) (SPC-2, obsolete)
  Release6: 0x17, // RELEASE (6) (SPC-2, obsolete)
  ModeSense6: 0x1a, // MODE SENSE (6) (SPC-4)
  StartStopUnit: 0x1b, // START STOP UNIT (SBC-3)
  PreventAllowMediumRemoval: 0x1e, // PREVENT ALLOW MEDIUM REMOVAL (SPC-4)
  ReadCapacity10: 0x25, // READ CAPACITY (10) (SBC-3)
  Read10: 0x28, // READ (10)
  Write10: 0x2a, // WRITE (10)
  WriteAndVerify10: 0x2e, // WRITE AND VERIFY (10)
  Verify10: 0x2f, // VERIFY (10)
  PreFetch10: 0x34, // PRE-FETCH (10)
  SynchronizeCache10: 0x35, // SYNCHRONIZE CACHE (10)
  ReadDefectData10: 0x37, // READ DEFECT DATA (10)
  WriteSame10: 0x41, // WRITE SAME (10)
  Unmap: 0x42, // UNMAP
  ModeSelect10: 0x55, // MODE SELECT (10)
  Reserve10: 0x56, // RESERVE (10) (SPC-2, obsolete)
  Release10: 0x57, // RELEASE (10) (SPC-2, obsolete)
  ModeSense10: 0x5a, // MODE SENSE (10)
  PersistentReserveIn: 0x5e, // PERSISTENT RESERVE IN
  PersistentReserveOut: 0x5f, // PERSISTENT RESERVE OUT
  ExtendedCopy: 0x83, // EXTENDED COPY (SPC-4 §6.4; service action 00h: LID1)
  ReceiveCopyResults: 0x84, // RECEIVE COPY RESULTS (SPC-4 §6.18)
  Read16: 0x88, // READ (16)
  CompareAndWrite: 0x89, // COMPARE AND WRITE
  Write16: 0x8a, // WRITE (16)
  OrWrite16: 0x8b, // ORWRITE (16)
  WriteAndVerify16: 0x8e, // WRITE AND VERIFY (16)
  Verify16: 0x8f, // VERIFY (16)
  PreFetch16: 0x90, // PRE-FETCH (16)
  SynchronizeCache16: 0x91, // SYNCHRONIZE CACHE (16)
  WriteSame16: 0x93, // WRITE SAME (16)
  WriteAtomic16: 0x9c, // WRITE ATOMIC (16) (SBC-4)
  ServiceActionIn16: 0x9e, // SERVICE ACTION IN (16): READ CAPACITY (16), GET LBA STATUS
  ReportLuns: 0xa0, // REPORT LUNS
  MaintenanceIn: 0xa3, // MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS
  Read12: 0xa8, // READ (12)
  Write12: 0xaa, // WRITE (12)
  WriteAndVerify12: 0xae, // WRITE AND VERIFY (12)
  Verify12: 0xaf, // VERIFY (12)
  ReadDefectData12: 0xb7, // READ DEFECT DATA (12)
} as const;

/** Service actions of SERVICE ACTION IN (16) (SBC-3 §5.16, §5.7). */
export const ServiceActionIn16 = {
  ReadCapacity16: 0x10, // READ CAPACITY (16)
  GetLbaStatus: 0x12, // GET LBA STATUS
} as const;

/** Service actions of MAINTENANCE IN (SPC-4 §6.35, §6.36). */
export const MaintenanceIn = {
  ReportSupportedOperationCodes: 0x0c, // REPORT SUPPORTED OPERATION CODES
  ReportSupportedTaskManagementFunctions: 0x0d, // REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
} as const;

/** PERSISTENT RESERVE IN service actions (SPC-4 §6.13). */
export const PrIn = {
  ReadKeys: 0x00, // READ KEYS
  ReadReservation: 0x01, // READ RESERVATION
  ReportCapabilities: 0x02, // REPORT CAPABILITIES
  ReadFullStatus: 0x03, // READ FULL STATUS
} as const;

/** PERSISTENT RESERVE OUT service actions (SPC-4 §6.14). */
export const PrOut = {
  Register: 0x00, // REGISTER
  Reserve: 0x01, // RESERVE
  Release: 0x02, // RELEASE
  Clear: 0x03, // CLEAR
  Preempt: 0x04, // PREEMPT
  PreemptAndAbort: 0x05, // PREEMPT AND ABORT
  RegisterAndIgnoreExistingKey: 0x06, // REGISTER AND IGNORE EXISTING KEY
  RegisterAndMove: 0x07, // REGISTER AND MOVE (not supported)
} as const;

/** Persistent reservation types (SPC-4 table 195). */
export const PrType = {
  WriteExclusive: 0x1, // WE
  ExclusiveAccess: 0x3, // EA
  WriteExclusiveRegistrantsOnly: 0x5, // WE-RO
  ExclusiveAccessRegistrantsOnly: 0x6, // EA-RO
  WriteExclusiveAllRegistrants: 0x7, // WE-AR
  ExclusiveAccessAllRegistrants: 0x8, // EA-AR
} as const;
