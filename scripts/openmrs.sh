#!/usr/bin/env bash
# Builds a real OpenMRS core from the sources in ../shared/openmrs with Maven Central alone and
# installs it into the local Maven repository (~/.m2), where Gradle's mavenLocal() finds it:
# openmrs-api, its tests jar (the OpenMRS test framework) and, with --war, the webapp.
# OpenMRS publishes only to its own repository, which is not reachable here; the changes below
# are the ones ../shared/openmrs/README.md measured as needed, nothing else.
#
#   scripts/openmrs.sh 2.7|2.9 [--war]
set -euo pipefail
cd "$(dirname "$0")/.."
line=${1:?usage: scripts/openmrs.sh 2.7|2.9 [--war]}
war=${2:-}
tarball=$(ls ../shared/openmrs/openmrs-core-"$line".x-*.tgz 2>/dev/null | head -1)
[ -n "$tarball" ] || { echo "no OpenMRS $line sources in ../shared/openmrs" >&2; exit 2; }
src=build/openmrs/$line
stamp=$src/.installed${war:+-war}
if [ -f "$stamp" ] && [ "$stamp" -nt "$tarball" ]; then
  echo "OpenMRS $line already installed ($(cat "$stamp"))"
  exit 0
fi

rm -rf "$src"
mkdir -p "$src"
tar xzf "$tarball" -C "$src"
python3 - "$src" <<'PY'
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
pom = root / "pom.xml"
text = pom.read_text()
# Modules that need OpenMRS-only plugins or are not in the tarball.
for module in ("test-suite", "test-module", "liquibase"):
    text = text.replace(f"<module>{module}</module>", "")
# Only the OpenMRS repository is named there: without it Maven uses Central.
text = re.sub(r"<repositories>.*?</repositories>", "", text, flags=re.S)
text = re.sub(r"<pluginRepositories>.*?</pluginRepositories>", "", text, flags=re.S)
# Versions that exist only on the OpenMRS repository, replaced by the nearest Central release.
for old, new in (("1.9.14-MULE-002", "1.9.13"), ("2.0.1-atlassian-2", "2.0"),
                 ("2.10.10.4.43", "2.10.9.2")):
    text = text.replace(f"<version>{old}</version>", f"<version>{new}</version>")
pom.write_text(text)
PY

modules=api
[ "$war" = --war ] && modules=webapp
(cd "$src" && mvn -B -q -DskipTests -Ph2 -pl "$modules" -am install)
version=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).find("{http://maven.apache.org/POM/4.0.0}version").text)' "$src/pom.xml")
echo "$version" > "$stamp"
echo "OpenMRS $line installed: $version"
