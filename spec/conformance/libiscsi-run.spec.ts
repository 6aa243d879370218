import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { iscsiTestCuArgs, parseCunitResults, tally } from './libiscsi-run.ts';

// Trimmed from a real CUnitAutomated-Results.xml written by iscsi-test-cu 1.19 (CUnit 2.1-3).
const XML = `<?xml version="1.0" ?>
<CUNIT_TEST_RUN_REPORT>
  <CUNIT_RESULT_LISTING>
    <CUNIT_RUN_SUITE>
      <CUNIT_RUN_SUITE_SUCCESS>
        <SUITE_NAME> GetLBAStatus </SUITE_NAME>
        <CUNIT_RUN_TEST_RECORD>
          <CUNIT_RUN_TEST_SUCCESS>
            <TEST_NAME> Simple </TEST_NAME>
          </CUNIT_RUN_TEST_SUCCESS>
        </CUNIT_RUN_TEST_RECORD>
        <CUNIT_RUN_TEST_RECORD>
          <CUNIT_RUN_TEST_FAILURE>
            <TEST_NAME> BeyondEol </TEST_NAME>
            <FILE_NAME> test_get_lba_status_beyond_eol.c </FILE_NAME>
            <LINE_NUMBER> 38 </LINE_NUMBER>
            <CONDITION> CU_ASSERT_EQUAL(_r,0) </CONDITION>
          </CUNIT_RUN_TEST_FAILURE>
        </CUNIT_RUN_TEST_RECORD>
        <CUNIT_RUN_TEST_RECORD>
          <CUNIT_RUN_TEST_FAILURE>
            <TEST_NAME> BeyondEol </TEST_NAME>
            <FILE_NAME> test_get_lba_status_beyond_eol.c </FILE_NAME>
            <LINE_NUMBER> 38 </LINE_NUMBER>
            <CONDITION> CU_ASSERT_EQUAL(_r,0) </CONDITION>
          </CUNIT_RUN_TEST_FAILURE>
        </CUNIT_RUN_TEST_RECORD>
      </CUNIT_RUN_SUITE_SUCCESS>
    </CUNIT_RUN_SUITE>
    <CUNIT_RUN_SUITE>
      <CUNIT_RUN_SUITE_SUCCESS>
        <SUITE_NAME> Unmap </SUITE_NAME>
        <CUNIT_RUN_TEST_RECORD>
          <CUNIT_RUN_TEST_SUCCESS>
            <TEST_NAME> VPD </TEST_NAME>
          </CUNIT_RUN_TEST_SUCCESS>
        </CUNIT_RUN_TEST_RECORD>
      </CUNIT_RUN_SUITE_SUCCESS>
    </CUNIT_RUN_SUITE>
  </CUNIT_RESULT_LISTING>
</CUNIT_TEST_RUN_REPORT>`;

const STDOUT = [
  '    [SKIPPED] UNMAP is not implemented.',
  '    [SKIPPED] Task Management functionfor ColdReset is not working/implemented',
  '    [SKIPPED] Logical unit is not removable. Skipping test.',
  '    [FAILED] GET_LBA_STATUS successful but should have failed',
].join('\n');

describe('libiscsi report reading', () => {
  it('names tests Suite.Test and folds repeated failure records into one test', () => {
    assert.deepEqual(parseCunitResults(XML), [
      { name: 'GetLBAStatus.Simple', passed: true, failures: [] },
      { name: 'GetLBAStatus.BeyondEol', passed: false, failures: ['test_get_lba_status_beyond_eol.c:38'] },
      { name: 'Unmap.VPD', passed: true, failures: [] },
    ]);
  });

  it('counts skip lines, and apart the ones that say not implemented', () => {
    const t = tally(XML, STDOUT);
    assert.deepEqual([t.run, t.passed, t.failed, t.skippedLines, t.notImplementedLines], [3, 2, 1, 3, 2]);
  });

  it('builds the command line with the multipath URL last', () => {
    assert.deepEqual(iscsiTestCuArgs({ url: 'iscsi://h/iqn/0', multipathUrl: 'iscsi://h/iqn/0' }), ['--dataloss', '-t', 'ALL', '--xml', 'iscsi://h/iqn/0', 'iscsi://h/iqn/0']);
  });
});
