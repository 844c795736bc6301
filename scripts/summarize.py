"""Adds up cargo's and JUnit's results into the one closing line CI reads: N passed, N failed."""
import glob
import re
import sys
import xml.etree.ElementTree as ET


def cargo_counts(path):
    passed = failed = 0
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", line)
            if m:
                passed += int(m.group(1))
                failed += int(m.group(2))
    return passed, failed


def junit_counts(folder):
    passed = failed = skipped = 0
    for report in glob.glob(f"{folder}/**/TEST-*.xml", recursive=True):
        suite = ET.parse(report).getroot()
        tests = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        passed += tests - bad - skip
        failed += bad
        skipped += skip
    return passed, failed, skipped


def main():
    cargo_passed, cargo_failed = cargo_counts(sys.argv[1])
    java_passed, java_failed, skipped = junit_counts(sys.argv[2])
    print(f"cargo: {cargo_passed} passed, {cargo_failed} failed")
    print(f"junit: {java_passed} passed, {java_failed} failed, {skipped} skipped")
    failed = cargo_failed + java_failed
    print(f"{cargo_passed + java_passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
