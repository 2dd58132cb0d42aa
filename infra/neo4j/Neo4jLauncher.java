import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Runs Neo4j 5.26 Community embedded, with a Bolt connector on 127.0.0.1:PORT and auth disabled,
 * storing its data under HOME (default .maestro/neo4j/home). Started by infra/neo4j/server.ts:
 *
 *   java -cp .maestro/neo4j/classes:.maestro/neo4j/lib/* Neo4jLauncher HOME PORT
 *
 * Prints "MAESTRO_NEO4J_READY bolt://127.0.0.1:PORT" once the default database answers, and shuts
 * the database down cleanly on SIGTERM/SIGINT.
 */
public final class Neo4jLauncher {
  public static void main(String[] args) throws Exception {
    Path home = Path.of(args.length > 0 ? args[0] : ".maestro/neo4j/home").toAbsolutePath();
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 7687;
    String pageCache = System.getProperty("maestro.neo4j.pagecache", "128m");
    Files.createDirectories(home);

    DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, org.neo4j.io.ByteUnit.parse(pageCache))
        .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("MAESTRO_NEO4J_STOPPING");
      dbms.shutdown();
      stopped.countDown();
    }, "neo4j-shutdown"));

    GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
    db.executeTransactionally("RETURN 1");
    System.out.println("MAESTRO_NEO4J_READY bolt://127.0.0.1:" + port);
    System.out.flush();
    stopped.await();
  }
}
