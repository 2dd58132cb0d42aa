#!/usr/bin/env bash
# Installs Neo4j 5.26 Community (embedded, from Maven Central) and compiles the Bolt launcher into
# .maestro/neo4j. Idempotent: skips the download when the jars for this version are present and the
# compile when the classes are newer than the source. Needs Java 17+ and Maven 3.8+.
set -euo pipefail
cd "$(dirname "$0")/.."
NEO4J_DIR=.maestro/neo4j
LIB="$NEO4J_DIR/lib"
CLASSES="$NEO4J_DIR/classes"
VERSION=$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' infra/neo4j/pom.xml)
command -v java >/dev/null || { echo "setup-neo4j: java (17+) is not installed" >&2; exit 1; }
command -v mvn >/dev/null || { echo "setup-neo4j: mvn (Maven 3.8+) is not installed" >&2; exit 1; }

if [ ! -f "$LIB/.installed-$VERSION" ]; then
  echo "setup-neo4j: fetching Neo4j $VERSION Community and its dependencies into $LIB"
  rm -rf "$LIB"
  mkdir -p "$LIB"
  mvn -B -q -f infra/neo4j/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$LIB"
  touch "$LIB/.installed-$VERSION"
fi

if [ ! -f "$CLASSES/Neo4jLauncher.class" ] || [ infra/neo4j/Neo4jLauncher.java -nt "$CLASSES/Neo4jLauncher.class" ] || [ "$LIB/.installed-$VERSION" -nt "$CLASSES/Neo4jLauncher.class" ]; then
  echo "setup-neo4j: compiling infra/neo4j/Neo4jLauncher.java"
  mkdir -p "$CLASSES"
  javac -d "$CLASSES" -cp "$LIB/*" infra/neo4j/Neo4jLauncher.java
fi
echo "setup-neo4j: ready (Neo4j $VERSION, $(ls "$LIB"/*.jar | wc -l) jars)"
