"""Los textos de los programas en español: {texto en inglés (msgid): traducción}.

El inglés es el texto del código (``_("...")`` / ``N_("...")``, las ayudas de argparse); aquí
va cada uno traducido, con los mismos campos ``{}`` / ``%(default)s``.  Se usan los términos de
la guía del laboratorio: prueba, cliente, archivo, tiempo de transferencia, tasa de
transferencia, exitosa / fallida.  ``python3 -m transfer.msgids --missing es`` lista lo que
falta; tests/test_i18n_programs.py falla si falta o sobra algo.
"""

MESSAGES = {
    # --- argparse (sus propios textos) ---------------------------------------------------------
    "usage: ": "uso: ",
    "positional arguments": "argumentos posicionales",
    "options": "opciones",
    "optional arguments": "opciones",
    "show this help message and exit": "muestra esta ayuda y termina",
    "unrecognized arguments: %s": "argumentos no reconocidos: %s",
    "the following arguments are required: %s": "faltan estos argumentos: %s",
    "expected one argument": "se esperaba un valor",
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "opción no válida: %(value)r (elija entre %(choices)s)",
    "invalid %(type)s value: %(value)r": "valor %(type)s no válido: %(value)r",
    "not allowed with argument %s": "no se permite junto con el argumento %s",
    "ignored explicit argument %r": "se ignoró el argumento explícito %r",
    "one of the arguments %s is required": "se necesita uno de los argumentos %s",
    "expected at least one argument": "se esperaba al menos un valor",
    "expected at most one argument": "se esperaba como mucho un valor",
    "ambiguous option: %(option)s could match %(matches)s": "opción ambigua: %(option)s puede ser %(matches)s",

    # --- transfer/cli.py, config.py, i18n.py ----------------------------------------------------
    "{}: error: {}\n": "{}: error: {}\n",
    "{}: input ended, stopping\n": "{}: se acabó la entrada, se detiene\n",
    "\n{}: interrupted\n": "\n{}: interrumpido\n",
    "{}: error: {} (see --help)\n": "{}: error: {} (vea --help)\n",
    "expected a whole number of at least 1, got {!r}": "se esperaba un número entero de al menos 1, se recibió {!r}",
    "expected a port from 0 to 65535, got {!r}": "se esperaba un puerto de 0 a 65535, se recibió {!r}",
    "expected a number of seconds, got {!r}": "se esperaba un número de segundos, se recibió {!r}",
    "expected a positive number of seconds, got {!r}": "se esperaba un número positivo de segundos, se recibió {!r}",
    "language of the output (default: the locale's, else English)":
        "idioma de la salida: es (español) o en (inglés) (por omisión: el de la configuración regional; si no, "
        "inglés)",
    "address to listen on (default: all interfaces, 0.0.0.0)":
        "dirección en la que escucha (por omisión: todas las interfaces, 0.0.0.0)",
    "port to listen on (default %(default)s; 0 picks a free one)":
        "puerto en el que escucha (por omisión %(default)s; 0 elige uno libre)",
    "file to send: a name from the files folder or its menu number (else asked)":
        "archivo que se envía: un nombre de la carpeta files o su número en el menú (si no, se pregunta)",
    "clients this test waits for (else asked; default answer 25)":
        "clientes que espera esta prueba (si no, se pregunta; respuesta por omisión 25)",
    "run one test and exit: status 0 only if every client verified":
        "ejecuta una sola prueba y termina: estado 0 solo si todos los clientes verificaron el archivo",
    "largest number of clients a test may wait for (default %(default)s)":
        "número máximo de clientes que puede esperar una prueba (por omisión %(default)s)",
    "folder of files to offer (default: files/)": "carpeta de los archivos que se ofrecen (por omisión: files/)",
    "folder for logs (default: Logs/)": "carpeta de los registros (por omisión: Logs/)",
    "do not create the standard 100MB.txt and 250MB.txt when missing":
        "no crea los archivos estándar 100MB.txt y 250MB.txt cuando faltan",
    "print only errors and the final result": "muestra solo los errores y el resultado final",
    "write the port actually listened on to PATH (for scripts using --port 0)":
        "escribe en PATH el puerto en el que realmente escucha (para scripts que usan --port 0)",
    "seconds a send or receive may stall before the client is dropped (default %(default)s)":
        "segundos que un envío o una recepción puede quedar detenido antes de soltar al cliente "
        "(por omisión %(default)s)",
    "seconds a connected client may take to send READY (default %(default)s)":
        "segundos que un cliente conectado puede tardar en enviar READY (por omisión %(default)s)",
    "seconds a new connection has to send HELLO (default %(default)s)":
        "segundos que tiene una conexión nueva para enviar HELLO (por omisión %(default)s)",
    "give up a test that has not finished after S seconds (default: no limit)":
        "abandona una prueba que no terminó tras S segundos (por omisión: sin límite)",
    "server address (else asked; default answer 127.0.0.1)":
        "dirección del servidor (si no, se pregunta; respuesta por omisión 127.0.0.1)",
    "server port (default %(default)s)": "puerto del servidor (por omisión %(default)s)",
    "how many clients to start, one connection each (else asked)":
        "cuántos clientes iniciar, una conexión cada uno (si no, se pregunta)",
    "send READY as soon as every client is connected, without asking":
        "envía READY en cuanto todos los clientes están conectados, sin preguntar",
    "folder for received files (default: ArchivosRecibidos/)":
        "carpeta de los archivos recibidos (por omisión: ArchivosRecibidos/)",
    "keep a failed transfer's data as <name>.<random>.part instead of deleting it":
        "conserva los datos de una transferencia fallida como <nombre>.<aleatorio>.part en lugar de borrarlos",
    "seconds a connect or receive may stall before the client gives up (default %(default)s)":
        "segundos que una conexión o una recepción puede quedar detenida antes de que el cliente desista "
        "(por omisión %(default)s)",
    "seconds to wait for the server's answers before the data (default %(default)s)":
        "segundos de espera de las respuestas del servidor antes de los datos (por omisión %(default)s)",
    "largest number of clients accepted at the prompt (default %(default)s)":
        "número máximo de clientes que se acepta en la pregunta (por omisión %(default)s)",

    # --- transfer/prompts.py, status.py, tables.py ----------------------------------------------
    "{} [{}-{}, default {}]: ": "{} [{}-{}, por omisión {}]: ",
    "  please type a whole number from {} to {}": "  escriba un número entero de {} a {}",
    "  ... and {} more": "  ... y {} más",
    "{:5.1f}% {:8.1f} MB/s": "{:5.1f}% {:8.1f} MB/s",
    "connecting": "conectando",
    "connected": "conectado",
    "ready": "listo",
    "receiving": "recibiendo",
    "sending": "enviando",
    "waiting": "esperando",
    "verified": "verificado",
    "failed": "fallida",
    "left": "se fue",
    "busy": "ocupado",
    "interrupted": "interrumpida",
    "finishing": "terminando",
    "client": "cliente",
    "client address": "dirección del cliente",
    "result": "resultado",
    "bytes": "bytes",
    "time": "tiempo de transferencia",
    "rate": "tasa de transferencia",
    "FAILED: ": "FALLIDA: ",

    # --- transfer/server_app.py, client_app.py ----------------------------------------------------
    "test did not finish within --test-timeout": "la prueba no terminó dentro de --test-timeout",
    "no files to offer in {}": "no hay archivos que ofrecer en {}",
    "cannot write the port file {}: {}": "no se puede escribir el archivo de puerto {}: {}",
    "\nFiles in {}:\n": "\nArchivos en {}:\n",
    "  {:>2}. {:<30} {:>15,} bytes  ({})\n": "  {:>2}. {:<30} {:>15,} bytes  ({})\n",
    "File to send (number or name, q to quit): ": "Archivo que se envía (número o nombre, q para salir): ",
    "--clients {} is over --max-clients {}": "--clients {} supera --max-clients {}",
    "How many clients does this test wait for?": "¿Cuántos clientes espera esta prueba?",
    "{} server listening on port {}. Clients can connect to:\n":
        "Servidor {} escuchando en el puerto {}. Los clientes pueden conectarse a:\n",
    "Test: {} ({:,} bytes) to {} client(s). SHA-256 {}\n":
        "Prueba: archivo {} ({:,} bytes) para {} cliente(s). SHA-256 {}\n",
    "Waiting for {} client(s) to connect and send READY (Ctrl-C stops)...\n":
        "Esperando a que {} cliente(s) se conecten y envíen READY (Ctrl-C detiene)...\n",
    "{} server - {} to {} client(s)": "Servidor {} - {} para {} cliente(s)",
    "log: {}\n": "registro: {}\n",
    "protocol error: {}": "error de protocolo: {}",
    "interrupted after {:,} bytes": "interrumpida después de {:,} bytes",
    "network error after {:,} bytes: {}": "error de red después de {:,} bytes: {}",
    "internal error: {!r}": "error interno: {!r}",
    "Server address": "Dirección del servidor",
    "How many clients to start?": "¿Cuántos clientes iniciar?",
    "{} of {} client(s) connected; file {} ({:,} bytes). Press Enter to send READY (q cancels): ":
        "{} de {} cliente(s) conectados; archivo {} ({:,} bytes). Presione Enter para enviar READY (q cancela): ",
    "did not finish": "no terminó",
    "{} failed transfer(s): {}\n": "{} transferencia(s) fallida(s): {}\n",
    "partial data kept as .part files": "los datos parciales se conservan como archivos .part",
    "no file was left under a final name": "no quedó ningún archivo con su nombre final",

    # --- transfer/testlog.py (registro de texto) ---------------------------------------------------
    "file name": "nombre del archivo",
    "clients announced": "clientes anunciados",
    "server verdict": "veredicto del servidor",
    "client bytes": "bytes del cliente",
    "server": "servidor",
    "chunk size": "tamaño de bloque",
    "chunk data": "datos por bloque",
    "chunks": "bloques",
    "control received": "control recibidos",
    "control sent": "control enviados",
    "datagrams expected": "datagramas esperados",
    "datagrams received": "datagramas recibidos",
    "datagrams sent": "datagramas enviados",
    "delivery ms": "entrega ms",
    "duplicates": "duplicados",
    "end sent": "END enviados",
    "end received": "END recibido",
    "ignored datagrams": "datagramas ignorados",
    "loss pct": "pérdida %",
    "out of order": "fuera de orden",
    "resent datagrams": "datagramas reenviados",
    "resent pct": "reenviados %",
    "so rcvbuf": "so rcvbuf",
    "so sndbuf": "so sndbuf",
    "transfer id": "id de transferencia",
    "bytes received": "bytes recibidos",
    "first gap seq": "seq del primer hueco",
    "gaps seen": "huecos vistos",
    "nack datagrams": "datagramas NACK",
    "nack rounds": "rondas NACK",
    "dropped writer behind": "descartados por escritura lenta",
    "rate bytes per s set": "tasa fijada bytes/s",
    "rate blackouts": "tasa: apagones",
    "rate decreases": "tasa: bajadas",
    "rate final": "tasa final",
    "rate max": "tasa máxima",
    "rate min": "tasa mínima",
    "rate silences": "tasa: silencios",
    "rate start": "tasa inicial",
    "bytes sent total": "bytes enviados en total",
    "datagrams resent": "datagramas reenviados",
    "loss before recovery pct": "pérdida antes de recuperar %",
    "rate sent bytes per s": "tasa enviada bytes/s",
    "rate received bytes per s": "tasa recibida bytes/s",
    "suggested rate bytes per s": "tasa sugerida bytes/s",
    "io path": "ruta de E/S",
    "rate control": "control de tasa",
    "receive threads": "hilos de recepción",
    "feedback sent": "realimentación enviada",
    "feedback received": "realimentación recibida",
    "receive calls": "llamadas de recepción",
    "datagrams per call": "datagramas por llamada",
    "send errors": "errores de envío",
    "rate estimate": "tasa estimada",
    "server answered": "el servidor respondió",
    "test clients": "clientes de la prueba",
    "nack sent": "NACK enviados",
    "rate loss rounds": "tasa: rondas con pérdida",
    "rate overshoots": "tasa: excesos",
    "rate queue rounds": "tasa: rondas con cola",
    "rate startup restarts": "tasa: reinicios del arranque",
    "rate startup rounds": "tasa: rondas de arranque",
    "stream": "flujo (TCP)",
    "raw": "sin recuperación",
    "reliable": "confiable",
    "cannot find a free log name in {}": "no hay un nombre de registro libre en {}",
    "cannot create the log folder {}: {}": "no se puede crear la carpeta de registros {}: {}",
    "{} {} log - test started {}": "Registro {} del {} - prueba iniciada el {}",
    "file: {} ({:,} bytes)": "archivo: {} ({:,} bytes)",
    "clients in this test: {}   mode: {}": "clientes en esta prueba: {}   modo: {}",
    "host: {}   python {} on {}": "equipo: {}   python {} en {}",
    "settings: ": "configuración: ",
    "connection: client {}  client {}  server {}": "conexión: cliente {}  cliente {}  servidor {}",
    "  bytes sent: {:,}": "  bytes enviados: {:,}",
    "  bytes received: {:,}": "  bytes recibidos: {:,}",
    "  success: {}{}": "  transferencia exitosa: {}{}",
    "yes": "sí",
    "no": "no",
    "  sha256 expected: {}": "  sha256 esperado: {}",
    "  sha256 received: {}": "  sha256 recibido: {}",
    "  transfer time: {}   rate: {}": "  tiempo de transferencia: {}   tasa de transferencia: {}",
    "  client report: {}": "  informe del cliente: {}",
    "  saved as: {}": "  guardado como: {}",
    "  partial file kept as: {}": "  archivo parcial conservado como: {}",
    "event {} {} from {}: {}": "evento {} {} de {}: {}",
    "summary: {} of {} verified, {} failed{}": "resumen: {} de {} verificados, {} fallidos{}",
    ", INTERRUPTED": ", INTERRUMPIDA",
    "total bytes: {:,}   aggregate rate: {}": "bytes en total: {:,}   tasa de transferencia agregada: {}",
    "test ended {}; result: {}": "prueba terminada el {}; resultado: {}",
    "OK": "EXITOSA",
    "FAILED": "FALLIDA",

    # --- tcp/server.py ------------------------------------------------------------------------------
    "TCP file-transfer server: sends a file from files/ to N clients at once and verifies each copy with SHA-256.":
        "Servidor TCP de transferencia de archivos: envía un archivo de files/ a N clientes a la vez y verifica "
        "cada copia con SHA-256.",
    "port {} is already in use on {} (choose another with --port)":
        "el puerto {} ya está en uso en {} (elija otro con --port)",
    "internal error: {}": "error interno: {}",
    "expected HELLO, got {}": "se esperaba HELLO, llegó {}",
    "before HELLO: {}": "antes de HELLO: {}",
    "HELLO id={} total={}: test full or running": "HELLO id={} total={}: la prueba está completa o en curso",
    "this test already has its {} client(s)": "esta prueba ya tiene sus {} cliente(s)",
    "expected READY, got {}": "se esperaba READY, llegó {}",
    "{}/{} ready": "{}/{} listos",
    "timed out waiting for READY": "se agotó el tiempo de espera de READY",
    "client {}: {}": "cliente {}: {}",
    "test cancelled": "prueba cancelada",
    "the other clients were not ready within {:g} s": "los demás clientes no estuvieron listos en {:g} s",
    "connection lost: {}": "conexión perdida: {}",
    "client closed the connection before the start": "el cliente cerró la conexión antes del inicio",
    "unexpected data before DATA": "datos inesperados antes de DATA",
    "connection closed while sending": "conexión cerrada durante el envío",
    "all sent, waiting for DONE": "todo enviado, esperando DONE",
    "expected DONE, got {}": "se esperaba DONE, llegó {}",
    "client reports {} of {:,} bytes, hash {}": "el cliente informa {} de {:,} bytes, hash {}",
    "matches": "coincide",
    "differs": "no coincide",
    "client stalled: nothing moved for {:g} s after {:,} bytes":
        "cliente detenido: nada se movió durante {:g} s después de {:,} bytes",
    "connection lost after {:,} bytes: {}": "conexión perdida después de {:,} bytes: {}",
    "send failed after {:,} bytes: {}": "el envío falló después de {:,} bytes: {}",
    "server interrupted ({})": "servidor interrumpido ({})",

    # --- tcp/client.py -----------------------------------------------------------------------------------
    "TCP file-transfer client: starts N clients that receive the server's file at once and verify it with SHA-256.":
        "Cliente TCP de transferencia de archivos: inicia N clientes que reciben a la vez el archivo del servidor "
        "y lo verifican con SHA-256.",
    "client {}": "cliente {}",
    "waiting for the other clients": "esperando a los demás clientes",
    "DATA size {} differs from FILE size {}": "el tamaño de DATA {} difiere del tamaño de FILE {}",
    "timed out after {:,} bytes (no data for {:g} s)":
        "se agotó el tiempo después de {:,} bytes (sin datos durante {:g} s)",
    "timed out waiting for the server": "se agotó el tiempo de espera del servidor",
    "server closed the connection after {:,} of {} bytes":
        "el servidor cerró la conexión después de {:,} de {} bytes",
    "cannot resolve {!r}: {}": "no se puede resolver {!r}: {}",
    "file {} ({:,} bytes), test of {} client(s)": "archivo {} ({:,} bytes), prueba de {} cliente(s)",
    "server is busy: {}": "el servidor está ocupado: {}",
    "server error: {}": "error del servidor: {}",
    "expected {}, got {}": "se esperaba {}, llegó {}",
    "cancelled before READY": "cancelado antes de READY",
    "hashing stalled": "el cálculo del hash se detuvo",
    "server closed the connection": "el servidor cerró la conexión",
    "SHA-256 mismatch: server announced {}..., received {}...":
        "SHA-256 distinto: el servidor anunció {}..., se recibió {}...",
    "no BYE": "sin BYE",
    "expected BYE after DONE, got {}": "se esperaba BYE después de DONE, llegó {}",
    "ok": "exitosa",
    "not ok": "fallida",
    "{:,} bytes in {:.3f} s": "{:,} bytes en {:.3f} s",

    # --- udp (ayudas compartidas) -------------------------------------------------------------------------
    "send PINGs to the server's port and print each reply's round-trip time":
        "envía PING al puerto del servidor y muestra el tiempo de ida y vuelta de cada respuesta",
    "with --ping: how many PINGs (default %(default)s)": "con --ping: cuántos PING (por omisión %(default)s)",
    "with --ping: seconds between PINGs, and how long to wait for each reply (default %(default)s)":
        "con --ping: segundos entre PING y tiempo de espera de cada respuesta (por omisión %(default)s)",
    "ports the per-client session sockets may use, e.g. 5003-5102 (one per client of a test), so a firewall can "
    "open just those; default: any free port":
        "puertos que pueden usar los sockets de sesión de cada cliente, p. ej. 5003-5102 (uno por cliente de una "
        "prueba), para que un cortafuegos abra solo esos; por omisión: cualquier puerto libre",
    "reliable mode (both sides): the client NACKs missing chunks, the server resends them and adapts its rate to "
    "the loss; default is raw mode (each chunk sent once)":
        "modo confiable (en ambos lados): el cliente pide con NACK los bloques que faltan, el servidor los reenvía "
        "y adapta su tasa a la pérdida; por omisión, modo sin recuperación (cada bloque se envía una vez)",
    "seconds of silence from a client after the data (no NACK, no REPORT) before its session is given up "
    "(default: --timeout)":
        "segundos de silencio de un cliente después de los datos (ni NACK ni REPORT) antes de abandonar su "
        "sesión (por omisión: --timeout)",
    "seconds without a datagram from the server that end a transfer: raw mode counts what is missing, reliable "
    "mode gives up (default %(default)s)":
        "segundos sin datagramas del servidor que terminan una transferencia: el modo sin recuperación cuenta lo "
        "que falta, el modo confiable desiste (por omisión %(default)s)",

    # --- udp/ (servidor, cliente, ping) ----------------------------------------------------------------
    "cancelled before the server answered": "cancelado antes de que respondiera el servidor",
    "server runs {} mode": "el servidor funciona en modo {}",
    "file {} ({:,} bytes), test of {} client(s), session port {}":
        "archivo {} ({:,} bytes), prueba de {} cliente(s), puerto de sesión {}",
    "{}/{} clients ready": "{}/{} clientes listos",
    "cancelled while waiting for the other clients": "cancelado mientras esperaba a los demás clientes",
    "the transfer did not start within {:g} s": "la transferencia no empezó en {:g} s",
    "writing the received file stalled for {:g} s": "la escritura del archivo recibido se detuvo durante {:g} s",
    "server error after {:,} bytes: {}": "error del servidor después de {:,} bytes: {}",
    "END received": "END recibido",
    "no datagram from the server for {:g} s": "ningún datagrama del servidor durante {:g} s",
    "{}: {:,} of {:,} bytes, {:,} of {:,} chunks missing": "{}: {:,} de {:,} bytes, faltan {:,} de {:,} bloques",
    "cannot write the received file: {!r}": "no se puede escribir el archivo recibido: {!r}",
    "writing the received file stalled": "la escritura del archivo recibido se detuvo",
    "datagrams": "datagramas",
    "missing": "faltantes",
    "dup": "dup",
    "resent": "reenviados",
    "port": "puerto",
    "UDP file-transfer client: starts N clients that receive the server's file in numbered datagrams "
    "and verify it with SHA-256; --ping is a UDP echo client.":
        "Cliente UDP de transferencia de archivos: inicia N clientes que reciben el archivo del servidor "
        "en datagramas numerados y lo verifican con SHA-256; --ping es un cliente de eco UDP.",
    "PING {} (UDP), {} request(s), {:g} s apart\n": "PING {} (UDP), {} solicitud(es), cada {:g} s\n",
    "seq={}: send failed: {}\n": "seq={}: el envío falló: {}\n",
    "reply from {}: seq={} time={:.3f} ms\n": "respuesta de {}: seq={} tiempo={:.3f} ms\n",
    "seq={}: no reply within {:g} s\n": "seq={}: ninguna respuesta en {:g} s\n",
    "--- {} UDP ping statistics ---\n": "--- estadísticas de ping UDP de {} ---\n",
    "{} sent, {} received, {:.1f}% loss\n": "{} enviados, {} recibidos, {:.1f}% de pérdida\n",
    "rtt min/avg/max = {:.3f}/{:.3f}/{:.3f} ms\n": "rtt mín/prom/máx = {:.3f}/{:.3f}/{:.3f} ms\n",
    "UDP port {} is already in use on {} (choose another with --port)":
        "el puerto UDP {} ya está en uso en {} (elija otro con --port)",
    "no free port in --session-ports {}-{}": "ningún puerto libre en --session-ports {}-{}",
    "expected a port range LOW-HIGH such as 5003-5102, got {!r}":
        "se esperaba un rango de puertos LOW-HIGH como 5003-5102, se recibió {!r}",
    "{} datagrams sent, {} resent": "{} datagramas enviados, {} reenviados",
    "{} datagram(s) ignored on the well-known port during this test (the first {} are logged above)":
        "{} datagrama(s) ignorados en el puerto conocido durante esta prueba (los primeros {} están "
        "arriba en el registro)",
    "data datagram on the well-known port": "datagrama de datos en el puerto conocido",
    "empty datagram": "datagrama vacío",
    "bad datagram ({} bytes): {}": "datagrama incorrecto ({} bytes): {}",
    "unexpected {} on the well-known port": "{} inesperado en el puerto conocido",
    "HELLO id={} while no test waits for clients": "HELLO id={} cuando ninguna prueba espera clientes",
    "the server runs {} mode: {} the client's --reliable":
        "el servidor funciona en modo {}: {} el --reliable del cliente",
    "HELLO mode={} on a {} server": "HELLO mode={} en un servidor {}",
    "cannot open a session socket: {}": "no se puede abrir un socket de sesión: {}",
    "server cannot open a session socket": "el servidor no puede abrir un socket de sesión",
    "ignored: {}": "ignorado: {}",
    "client silent for {:g} s after READY": "cliente en silencio durante {:g} s después de READY",
    "nothing from the client (READY or HELLO) for {:g} s after FILE (--hello-timeout)":
        "nada del cliente (READY ni HELLO) durante {:g} s después de FILE (--hello-timeout)",
    "no READY within {:g} s (--handshake-timeout)": "ningún READY en {:g} s (--handshake-timeout)",
    "client gave up: {}": "el cliente desistió: {}",
    "all sent, waiting for the client's REPORT": "todo enviado, esperando el REPORT del cliente",
    "no REPORT from the client within {:g} s after the data":
        "ningún REPORT del cliente en {:g} s después de los datos",
    "interrupted while waiting for the client's REPORT": "interrumpida mientras esperaba el REPORT del cliente",
    "client reports {}: {:,} of {:,} bytes, {} chunk(s) missing, hash {}":
        "el cliente informa {}: {:,} de {:,} bytes, {} bloque(s) faltantes, hash {}",
    "UDP file-transfer server: sends a file from files/ to N clients at once in numbered datagrams "
    "(each client gets its own server port) and collects each client's verdict.":
        "Servidor UDP de transferencia de archivos: envía un archivo de files/ a N clientes a la vez en "
        "datagramas numerados (cada cliente tiene su propio puerto en el servidor) y recoge el veredicto "
        "de cada cliente.",
    "seconds a client's session waits after FILE for the client's next datagram (READY, or the HELLO "
    "a waiting client repeats every {:g} s) before it frees the place (default %(default)s)":
        "segundos que la sesión de un cliente espera después de FILE el siguiente datagrama del cliente "
        "(READY, o el HELLO que un cliente en espera repite cada {:g} s) antes de liberar el lugar (por "
        "omisión %(default)s)",
    "{} must be {} to {} bytes (header included), got {}":
        "{} debe estar entre {} y {} bytes (encabezado incluido), se recibió {}",
    "datagram payload in bytes, the {}-byte header included ({} to {}; default {}, or what fits one "
    "IP packet when the path to a client has a smaller MTU, e.g. 1472 on Ethernet)":
        "carga útil del datagrama en bytes, con el encabezado de {} bytes incluido ({} a {}; por omisión "
        "{}, o lo que cabe en un paquete IP cuando el camino hacia un cliente tiene una MTU menor, p. "
        "ej. 1472 en Ethernet)",
    "sent": "enviados",

    # --- scripts/benchmark.py, scripts/report.py (--help) ----------------------------------------
    "Run the lab's test matrix with the real TCP/UDP programs and write the performance report.":
        "Ejecuta la matriz de pruebas del laboratorio con los programas TCP/UDP reales y escribe el "
        "informe de desempeño.",
    "tcp,udp-raw,udp-reliable (default: all whose programs exist)":
        "tcp,udp-raw,udp-reliable (por omisión: todos los que tienen programa)",
    "files to send, by name (default 100MB,250MB; --quick: generated 2 MiB and 5 MiB files)":
        "archivos que se envían, por nombre (por omisión 100MB,250MB; --quick: archivos generados de 2 "
        "MiB y 5 MiB)",
    "client counts (default 1,5,10; --quick: 1,5)": "cantidades de clientes (por omisión 1,5,10; --quick: 1,5)",
    "run the matrix N times; the report uses medians over repetitions":
        "ejecuta la matriz N veces; el informe usa las medianas de las repeticiones",
    "small generated files and fewer clients (CI)": "archivos generados pequeños y menos clientes (CI)",
    "output folder (default Logs/benchmark-YYYY-MM-DD-HH-MM-SS/)":
        "carpeta de salida (por omisión Logs/benchmark-AAAA-MM-DD-HH-MM-SS/)",
    "folder of the files to send (default files/)": "carpeta de los archivos que se envían (por omisión files/)",
    "run only the clients, against servers started elsewhere with --serve":
        "ejecuta solo los clientes, contra servidores iniciados en otro equipo con --serve",
    "server port (default: any free port locally; 5001 tcp / 5002 udp with --host/--serve)":
        "puerto del servidor (por omisión: cualquier puerto libre en local; 5001 tcp / 5002 udp con "
        "--host/--serve)",
    "run only the servers, one test after another, for a --host run on another machine":
        "ejecuta solo los servidores, una prueba tras otra, para una ejecución --host en otra máquina",
    "with --serve: address to listen on (default 0.0.0.0)":
        "con --serve: dirección en la que escucha (por omisión 0.0.0.0)",
    "with --host: seconds to wait before each test so the server can restart (default 2)":
        "con --host: segundos de espera antes de cada prueba para que el servidor se reinicie (por "
        "omisión 2)",
    "with --serve: extra seconds each server waits for the remote clients (default 600)":
        "con --serve: segundos adicionales que cada servidor espera a los clientes remotos (por omisión "
        "600)",
    "capture packets of each test (scripts/capture.py)": "captura los paquetes de cada prueba (scripts/capture.py)",
    "--rate for the UDP servers (bytes/s per client, K/M/G suffixes), e.g. 11M on a 100 Mbit/s link; "
    "default: the server's own":
        "--rate de los servidores UDP (bytes/s por cliente, sufijos K/M/G), p. ej. 11M en un enlace de "
        "100 Mbit/s; por omisión: la del servidor",
    "seconds one test may take (default: 60 + data at 25 MB/s)":
        "segundos que puede durar una prueba (por omisión: 60 + los datos a 25 MB/s)",
    "skip the SHA-256 baseline": "omite la referencia de SHA-256",
    "do not print report.pdf (made when Chromium or Chrome is on the PATH)":
        "no imprime report.pdf (se genera cuando Chromium o Chrome está en el PATH)",
    "Build the lab's performance report (Markdown, HTML, PDF, CSV, SVG charts) from JSON-lines logs.":
        "Genera el informe de desempeño del laboratorio (Markdown, HTML, PDF, CSV, gráficos SVG) a "
        "partir de los registros JSON-lines.",
    "*-log.jsonl files or folders searched recursively (default: the hand-run logs in {0} when they "
    "are the newest, else the newest benchmark folder there)":
        "archivos *-log.jsonl o carpetas que se recorren de forma recursiva (por omisión: los registros "
        "de las ejecuciones a mano en {0} cuando son los más recientes; si no, la carpeta de benchmark "
        "más reciente allí)",
    "output folder (default: {})": "carpeta de salida (por omisión: {})",
    "report title": "título del informe",
    "only runs started at or after TIME: 2026-12-01, '2026-12-01 14:30', or back from now: 90m, 2h, "
    "1d":
        "solo las ejecuciones iniciadas en TIME o después: 2026-12-01, '2026-12-01 14:30', o hacia atrás "
        "desde ahora: 90m, 2h, 1d",
    "only the most recent runs covering N tests": "solo las ejecuciones más recientes que cubren N pruebas",
    "only this protocol (udp = both UDP modes)": "solo este protocolo (udp = los dos modos UDP)",
    "one benchmark folder ('latest': the newest under Logs/)":
        "una carpeta de benchmark ('latest': la más reciente en Logs/)",
    "every log under Logs/ (benchmarks and hand runs)":
        "todos los registros en Logs/ (benchmarks y ejecuciones a mano)",
    "do not print report.pdf": "no imprime report.pdf",

    # --- catálogo de archivos, archivo recibido, mensajes del protocolo -----------------------------
    "cannot create the files folder {}: {}": "no se puede crear la carpeta de archivos {}: {}",
    "cannot create {}: {}": "no se puede crear {}: {}",
    "the files folder {} does not exist": "la carpeta de archivos {} no existe",
    "cannot read the files folder {}: {}": "no se puede leer la carpeta de archivos {}: {}",
    "no file {!r} in the files folder (choose a name or a number from 1 to {})":
        "no hay ningún archivo {!r} en la carpeta de archivos (elija un nombre o un número de 1 a {})",
    "received file shrank while reading it back": "el archivo recibido se encogió mientras se volvía a leer",
    "incomplete file: {:,} of {:,} bytes": "archivo incompleto: {:,} de {:,} bytes",
    "SHA-256 mismatch: expected {}..., received {}...": "SHA-256 distinto: se esperaba {}..., se recibió {}...",
    "cannot rename the received file: {}": "no se puede renombrar el archivo recibido: {}",
    "cannot create a file in {}: {}": "no se puede crear un archivo en {}: {}",
    "{} is longer than {} characters": "{} tiene más de {} caracteres",
    "{} is missing {}": "a {} le falta {}",
    "line longer than {} bytes": "línea de más de {} bytes",
    "empty line": "línea vacía",
    "line is not ASCII": "la línea no es ASCII",
    "bad verb {}": "verbo incorrecto {}",
    "bad field {}": "campo incorrecto {}",
    "unknown verb {}": "verbo desconocido {}",
    "connection closed in the middle of a line": "conexión cerrada en mitad de una línea",
    "connection closed by the peer": "conexión cerrada por el otro extremo",
    "malformed value {!r}": "valor mal formado {!r}",
    "{} must be a whole number, got {}": "{} debe ser un número entero, llegó {}",
    "{}={} is out of range {}..{}": "{}={} está fuera del rango {}..{}",
    "{} must be 64 lowercase hex digits": "{} debe tener 64 dígitos hexadecimales en minúscula",

    # --- scripts/capture.py, scripts/pcap.py (--help) --------------------------------------------
    "Capture packet headers for a lab test, then summarize.":
        "Captura las cabeceras de los paquetes de una prueba del laboratorio y luego las resume.",
    "pcap file to write": "archivo pcap que se escribe",
    "interface (default lo)": "interfaz (por omisión lo)",
    "TCP ports to capture, e.g. 5001,5002": "puertos TCP que se capturan, p. ej. 5001,5002",
    "only traffic to/from this IP address": "solo el tráfico hacia/desde esta dirección IP",
    "bytes kept per frame (128)": "bytes que se guardan por trama (128)",
    "capture inside this network namespace": "captura dentro de este espacio de nombres de red",
    "capture duration, 0 = until Ctrl-C (default 10)": "duración de la captura, 0 = hasta Ctrl-C (por omisión 10)",
    "Per-connection summary of a pcap/pcapng capture.": "Resumen por conexión de una captura pcap/pcapng.",
    "capture file (pcap or pcapng)": "archivo de captura (pcap o pcapng)",
    "comma-separated server ports, e.g. 5001,5002": "puertos del servidor separados por comas, p. ej. 5001,5002",
    "list only conversations on --ports or sharing a client with them":
        "lista solo las conversaciones en --ports o que comparten un cliente con ellas",
    "print JSON instead of a table": "muestra JSON en lugar de una tabla",
    "accept a file cut short in its last record (killed capture)":
        "acepta un archivo cortado en su último registro (captura interrumpida)",
    "cross-check TCP retransmissions with tshark when installed":
        "contrasta las retransmisiones TCP con tshark cuando está instalado",
    "bound for the tshark run (default 60)": "límite de tiempo de la ejecución de tshark (por omisión 60)",
    "language of --help (this tool's output is in English)":
        "idioma de --help: es (español) o en (inglés) (la salida de esta herramienta está en inglés)",

    # --- tcp/server.py (plazas, accept), client_app, testlog (eventos) -------------------------------
    "cannot start the accept thread: {}": "no se puede iniciar el hilo de accept: {}",
    "accept loop: {!r}": "bucle de accept: {!r}",
    "select failed: {}": "select falló: {}",
    "accept failed: {}": "accept falló: {}",
    "dropped before HELLO ({:,} bytes in {:.1f} s): {}": "descartada antes de HELLO ({:,} bytes en {:.1f} s): {}",
    "no HELLO within {:g} s ({:,} bytes received)": "ningún HELLO en {:g} s ({:,} bytes recibidos)",
    "cannot start a thread for it: {}": "no se puede iniciar un hilo para ella: {}",
    "server overloaded, try again": "servidor sobrecargado, inténtelo de nuevo",
    "not sent: {}": "no enviado: {}",
    "connections that may wait for their HELLO at once; beyond it the one that has shown the least "
    "progress is dropped (default %(default)s)":
        "conexiones que pueden esperar su HELLO a la vez; por encima, se descarta la que menos ha "
        "avanzado (por omisión %(default)s)",
    "refusing the file: {}\n": "se rechaza el archivo: {}\n",
    "  (further '{}' events of this test are only counted: see the summary)":
        "  (los siguientes eventos '{}' de esta prueba solo se cuentan: vea el resumen)",
    "events: ": "eventos: ",
    " ({:,} not logged one by one)": " ({:,} no registrados uno por uno)",
    "not enough free space in {}: the file(s) need {} ({:,} bytes), {} free":
        "no hay suficiente espacio libre en {}: el/los archivo(s) necesitan {} ({:,} bytes), hay {} "
        "libres",
    "deadline of {:g} s passed": "pasó el plazo de {:g} s",
    "client interrupted (Ctrl-C)": "cliente interrumpido (Ctrl-C)",
    "the UDP server at {} stopped answering: {}": "el servidor UDP en {} dejó de responder: {}",
    ": connection refused (ICMP port unreachable)": ": conexión rechazada (ICMP puerto inalcanzable)",
    "no UDP server answered at {}{} (is udp/server.py running there? is UDP {} open?)":
        "ningún servidor UDP respondió en {}{} (¿está en marcha udp/server.py allí? ¿está abierto UDP "
        "{}?)",
    "the server answered; joining the test": "el servidor respondió; uniéndose a la prueba",
    "the UDP server at {} answers, but no test took this client within {:g} s (--handshake-timeout): "
    "is a test waiting for clients?":
        "el servidor UDP en {} responde, pero ninguna prueba aceptó a este cliente en {:g} s "
        "(--handshake-timeout): ¿hay una prueba esperando clientes?",
    "server announced an impossible transfer: {}": "el servidor anunció una transferencia imposible: {}",
    "udp/client.py: {}\n": "udp/client.py: {}\n",
    "{} must be 40 lowercase hex digits": "{} debe tener 40 dígitos hexadecimales en minúscula",
    "control datagram of {} bytes": "datagrama de control de {} bytes",
    "bad range {!r}": "rango incorrecto {!r}",
    "seq={}: {}\n": "seq={}: {}\n",
    "--single-port needs SO_REUSEPORT (Linux)": "--single-port necesita SO_REUSEPORT (Linux)",
    "{} {} event(s) in this test; the first {} are logged above":
        "{} evento(s) {} en esta prueba; los primeros {} están arriba en el registro",
    " ({} more not shown)": " ({} más sin mostrar)",
    "keep every client's traffic on the well-known port (the sessions share it, Linux SO_REUSEPORT): "
    "for client firewalls (Windows) that drop answers from another port":
        "mantiene el tráfico de todos los clientes en el puerto conocido (las sesiones lo comparten, "
        "SO_REUSEPORT de Linux): para cortafuegos de clientes (Windows) que descartan respuestas de otro "
        "puerto",
    "server announced chunks of {:,} bytes (accepted: {:,} to {:,})":
        "el servidor anunció bloques de {:,} bytes (se aceptan de {:,} a {:,})",
    "server announced {:,} bytes in {:,} chunks of {:,} (at most {:,} chunks)":
        "el servidor anunció {:,} bytes en {:,} bloques de {:,} (como mucho {:,} bloques)",
    "error: {}": "error: {}",
    "port unreachable (nothing listens on UDP {} there)": "puerto inalcanzable (nada escucha en UDP {} allí)",
    "also run the TCP baseline rows (scripts/baselines.py): socat pipeline, minimal reference "
    "receiver, SHA-256, fixed costs, server peak RSS, interleaved with tcp/client.py":
        "ejecuta también las filas de referencia TCP (scripts/baselines.py): tubería con socat, receptor "
        "mínimo de referencia, SHA-256, costos fijos, RSS máxima del servidor, intercaladas con "
        "tcp/client.py",
    "hashing files/{} ({:,} bytes; cached in {} afterwards)\n":
        "calculando el hash de files/{} ({:,} bytes; se guarda en {} después)\n",
    "{:,}": "{:,}",
    "with --netlab: netem delay and loss on each direction, e.g. 10ms,1%% (only where the kernel has "
    "netem; otherwise a note says it is absent)":
        "con --netlab: retardo y pérdida de netem en cada sentido, p. ej. 10ms,1%% (solo donde el kernel "
        "tiene netem; si no, una nota dice que falta)",
    "run through a network lab (two namespaces joined by a veth), e.g. 1gbit, or a list such as "
    "100mbit,1gbit,unshaped: the whole matrix runs on each link in turn, TCP included, and links.md "
    "compares them (scripts/netlab.py; needs root)":
        "ejecuta a través de una red de laboratorio (dos espacios de nombres unidos por un veth), p. ej. "
        "1gbit, o una lista como 100mbit,1gbit,unshaped: la matriz completa se ejecuta en cada enlace, "
        "TCP incluido, y links.md los compara (scripts/netlab.py; requiere root)",
    "sending rate per client in bytes/s, K/M/G suffixes (powers of 1000); 0 = unpaced. Raw mode: a "
    "fixed rate. Default: follow the rate the client reports receiving, starting from what a "
    "receiver absorbs at the datagram size ({:,} datagrams/s, at most {:,} bytes/s shared by the "
    "clients of the test). In reliable mode this is the starting rate, which then adapts":
        "tasa de envío por cliente en bytes/s, sufijos K/M/G (potencias de 1000); 0 = sin ritmo. Modo "
        "sin recuperación: una tasa fija. Por omisión: sigue la tasa que el cliente informa recibir, "
        "empezando por lo que un receptor absorbe con ese tamaño de datagrama ({:,} datagramas/s, como "
        "mucho {:,} bytes/s repartidos entre los clientes de la prueba). En modo confiable es la tasa "
        "inicial, que luego se adapta",
    "reliable mode's rate controller: delivery = pace at the delivery rate the client reports, "
    "probing above it (BBR-style); aimd = the older loss-driven controller (default %(default)s)":
        "controlador de tasa del modo confiable: delivery = envía a la tasa de entrega que informa el "
        "cliente, probando por encima (al estilo BBR); aimd = el controlador anterior, guiado por la "
        "pérdida (por omisión %(default)s)",
    "MB/s sent/recv": "MB/s env./rec.",
    "the client stopped acknowledging: nothing heard for {:g} s while sending, stopped after {:,} "
    "bytes":
        "el cliente dejó de confirmar: nada recibido durante {:g} s mientras se enviaba, detenido "
        "después de {:,} bytes",
    "{}; raw UDP lost what the path could not carry: sent {} MB/s, the client received {} MB/s; "
    "--rate {} would have delivered everything":
        "{}; UDP sin recuperación perdió lo que el camino no podía llevar: se enviaron {} MB/s, el "
        "cliente recibió {} MB/s; --rate {} lo habría entregado todo",
    "connection refused by {} (is the server running?)": "conexión rechazada por {} (¿está en marcha el servidor?)",
    "no answer from {} within {:g} s": "ninguna respuesta de {} en {:g} s",
    "cannot connect to {}: {}": "no se puede conectar a {}: {}",
    "cannot listen on {}: {}": "no se puede escuchar en {}: {}",
    "\rcreating {}: {:5.1f}%": "\rcreando {}: {:5.1f}%",
    "created {} ({:,} bytes)\n": "creado {} ({:,} bytes)\n",
    "received files: {} in {} (the folder now holds {} received file(s), {}; scripts/clean.py "
    "deletes them)\n":
        "archivos recibidos: {} en {} (la carpeta tiene ahora {} archivo(s) recibido(s), {}; "
        "scripts/clean.py los borra)\n",
    "{} client(s) turned away with BUSY (the test was full or already running): {}\n":
        "{} cliente(s) rechazados con BUSY (la prueba estaba completa o ya en curso): {}\n",
    "{} client - {} client(s) to {}": "Cliente {} - {} cliente(s) hacia {}",
    "{} from {}: {}": "{} de {}: {}",
    "{} {} from {}: {}\n": "{} {} de {}: {}\n",
    "between tests: {} (logged in {})": "entre pruebas: {} (registrado en {})",
    "BUSY: ": "OCUPADO: ",
    "not in this test": "no está en esta prueba",
    "{} of {} verified{}; {:,} bytes in all; aggregate {}":
        "{} de {} verificados{}; {:,} bytes en total; tasa de transferencia agregada {}",
    "; {} turned away with BUSY": "; {} rechazados con BUSY",
    "cannot bind UDP {}: {}": "no se puede abrir UDP {}: {}",
    "--max-pending {} connections were waiting for HELLO": "--max-pending: {} conexiones esperaban su HELLO",
    "out of file descriptors ({})": "sin descriptores de archivo ({})",
    "server busy: too many connections waiting for HELLO": "servidor ocupado: demasiadas conexiones esperando HELLO",
    "no HELLO in time": "ningún HELLO a tiempo",
    "expected HELLO: {}": "se esperaba HELLO: {}",
    "the file changed on the server; try again": "el archivo cambió en el servidor; inténtelo de nuevo",
    "{} is now a symbolic link": "{} ahora es un enlace simbólico",
    "{} is gone": "{} ya no existe",
    "{} cannot be opened: {}": "{} no se puede abrir: {}",
    "{} is no longer a regular file": "{} ya no es un archivo normal",
    "{} was replaced or changed since it was listed": "{} se reemplazó o cambió desde que se listó",
    "disk full while writing the received file": "disco lleno al escribir el archivo recibido",
    "cannot write the received file: {}": "no se puede escribir el archivo recibido: {}",
    "PING seq={}{}": "PING seq={}{}",
}
