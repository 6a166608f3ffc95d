"""Mensajes en español (los términos de la guía del laboratorio: prueba, cliente, archivo,
tiempo de transferencia, tasa de transferencia, exitosa / fallida).  Coma decimal."""

MESSAGES = {
    # palabras
    "yes": "sí",
    "no": "no",
    "ok": "exitosa",
    "failed": "fallida",
    "all_runs": " (todas las ejecuciones)",
    "prueba": "Prueba {n}",
    "toc": "Contenido",
    "size.unknown": "tamaño desconocido",
    "clients.one": "{n} cliente",
    "clients.many": "{n} clientes",
    "proto.udp_raw": "UDP sin recuperación",
    "proto.udp_reliable": "UDP confiable",
    "role.server": "servidor",
    "role.client": "cliente",
    "trend.rises": "sube",
    "trend.falls": "baja",
    "trend.same": "se mantiene casi igual",
    "trend.changes": "cambia",
    # informe: portada
    "report.title": "Laboratorio de transferencia de archivos TCP y UDP: informe de desempeño",
    "cover.subtitle": "Análisis del desempeño de la transferencia de archivos con TCP y UDP",
    "cover.date": "Fecha: {date}",
    "cover.sources": "Elaborado a partir de {files} archivo(s) de registro ({server} del servidor, {client} de "
                     "clientes): {tests} prueba(s), {runs} ejecución(es).",
    "cover.machines": "Máquinas",
    "cover.role": "Papel",
    "cover.host": "Equipo",
    "cover.os": "Sistema operativo",
    "cover.python": "Python",
    "cover.matrix": "Matriz de pruebas",
    "cover.test": "Prueba",
    "cover.glance": "En resumen",
    "cover.best": "Mayor tasa agregada: {label}, {rate} MB/s.",
    "cover.mb": "MB = 10^6 bytes; MiB = 2^20 bytes. Cuando una prueba se ejecutó más de una vez, las cifras son "
                "medianas de sus ejecuciones y cada ejecución tiene su propia tabla.",
    # informe: por prueba
    "test.heading": "{proto} - Prueba {n}: {size}, {clients}",
    "run.heading": "Ejecución {i}",
    "run.table": "Conexiones",
    "run.info": "Ejecución {i} de {n}: inicio {started}; registros: {logs}.",
    "run.only_client": "Solo hay registros de clientes: las columnas del servidor están vacías.",
    "run.only_server": "Ningún registro de cliente emparejado: las columnas del cliente están vacías.",
    "run.no_summary": "Un registro no tiene línea de resumen (¿el programa se detuvo antes?).",
    "run.interrupted": "Interrumpida.",
    "run.events": "Eventos: {events}.",
    "col.client": "Cliente",
    "col.success": "(a) Resultado",
    "col.client_bytes": "(b) Bytes recibidos (cliente)",
    "col.client_time": "(c) Tiempo de transferencia, cliente (ms)",
    "col.client_rate": "(d) Tasa de transferencia, cliente (MB/s)",
    "col.server_bytes": "(e) Bytes enviados (servidor)",
    "col.server_time": "(f) Tiempo de transferencia, servidor (ms)",
    "col.server_rate": "(g) Tasa de transferencia, servidor (MB/s)",
    "col.client_port": "(h) Puerto del cliente",
    "col.server_port": "Puerto del servidor",
    "col.datagrams_sent": "Datagramas enviados",
    "col.datagrams_received": "Datagramas recibidos",
    "col.loss": "Pérdida (%)",
    "col.resent": "Datagramas reenviados",
    "col.loss_first_pass": "Pérdida antes de recuperar (%)",
    "col.note": "Nota",
    "note.no_server_log": "sin registro del servidor",
    "note.no_client_log": "sin registro del cliente",
    "table.legend": "(a) el archivo llegó completo y con el SHA-256 correcto; (b)-(d) medidos por el cliente: del "
                    "primer byte recibido al envío de DONE; (e)-(g) medidos por el servidor: del primer byte enviado "
                    "a la recepción de DONE; (e) cuenta lo que salió a la red.",
    "table.legend_udp": "(a) el archivo llegó completo y con el SHA-256 correcto; (b)-(d) medidos por el cliente: "
                        "del primer al último datagrama recibido; (e)-(g) medidos por el servidor: del primer al "
                        "último datagrama enviado; (e) cuenta lo que salió a la red, reenvíos incluidos. UDP sin "
                        "recuperación nunca reenvía: sus columnas de reenvío muestran '-'.",
    "table.wire_estimated": "~ indica una estimación: el registro de este servidor no tiene bytes_sent_total, así "
                            "que (e) es el tamaño del archivo más los datagramas reenviados x los datos por "
                            "datagrama.",
    "sum.heading": "Resumen",
    "sum.metric": "Métrica",
    "sum.run": "Ejecución {n}",
    "sum.median": "Mediana de las ejecuciones",
    "sum.value": "Valor",
    "sum.success": "Conexiones verificadas",
    "sum.server_total_bytes": "Bytes enviados por el servidor (en la red)",
    "sum.server_mean_time": "Tiempo de transferencia medio, servidor (ms)",
    "sum.server_mean_rate": "Tasa de transferencia media, servidor (MB/s)",
    "sum.client_total_bytes": "Bytes recibidos por los clientes",
    "sum.client_mean_time": "Tiempo de transferencia medio, cliente (ms)",
    "sum.client_mean_rate": "Tasa de transferencia media, cliente (MB/s)",
    "sum.aggregate_client": "Tasa agregada, clientes (MB/s)",
    "sum.aggregate_server": "Tasa agregada, servidor (MB/s)",
    "sum.loss": "Pérdida media (%)",
    "sum.loss_first_pass": "Pérdida antes de recuperar (%)",
    "sum.resent": "Datagramas reenviados (% de los enviados)",
    "capture.heading": "Captura de tráfico",
    "capture.omitted": "Se omiten {n} conversación(es) más vistas en la captura (otros programas, o la prueba "
                       "siguiente al empezar).",
    "capture.other": "Otras capturas",
    "analysis.heading": "Análisis",
    "an.all_ok_one": "La transferencia fue exitosa: el cliente recibió el archivo completo con el SHA-256 correcto.",
    "an.all_ok": "Las {n} transferencias fueron exitosas: cada cliente recibió el archivo completo con el "
                 "SHA-256 correcto.",
    "an.some_failed": "{bad} de {n} transferencia(s) fallaron ({reasons}).",
    "an.rates": "Tasa de transferencia mediana por cliente {per_client} MB/s; agregada {aggregate} MB/s; tiempo "
                "de transferencia medio del cliente {time} ms.",
    "an.vs_sha": "Es {ratio} de la velocidad a la que esta máquina calcula SHA-256, el límite propio del receptor.",
    "an.raw_no_loss": "No se perdió ningún datagrama: los receptores siguieron el ritmo de envío.",
    "an.raw_loss": "Se perdieron datagramas ({loss}% en promedio). Es UDP comportándose como UDP: sin "
                   "recuperación nunca se reenvía, así que lo que los receptores no alcanzan a absorber se pierde. "
                   "El servidor envió a {sent} MB/s por cliente; los receptores absorbieron {received} MB/s.",
    "an.raw_suggest": "Enviar a {rate} MB/s (udp/server.py --rate {arg}) habría entregado todo.",
    "an.raw_suggest_est": "Una tasa por debajo de lo que absorbieron los receptores, unos {rate} MB/s "
                          "(udp/server.py --rate {arg}), probablemente habría entregado todo (estimación: este "
                          "registro no trae una tasa sugerida).",
    "an.reliable": "Antes de recuperar faltaba el {loss}% de los datagramas en el cliente; el servidor reenvió "
                   "{resent} datagrama(s) y el archivo llegó completo.",
    "an.above_pacing": "La tasa medida del servidor ({sent} MB/s) supera su ritmo de envío ({set} MB/s): el "
                       "regulador deja salir 2 ms de datos ({burst} MB) de una vez al empezar, y este archivo tardó "
                       "solo {time} ms en enviarse, así que esa primera ráfaga domina. Los archivos grandes muestran "
                       "la tasa regulada.",
    "an.capture": "La captura vio {frames} tramas; del servidor al cliente, {wire} bytes en la red llevaron "
                  "{payload} bytes de datos ({overhead}% de cabeceras y control).",
    "an.capture_retrans": "Retransmisiones TCP: {n}.",
    "an.capture_fragments": "Fragmentos IP: {n}.",
    # informe: global
    "global.heading": "Análisis global",
    "global.none": "No se encontró ninguna prueba en los registros.",
    "global.findings": "Lo que muestran las cifras",
    "glob.proto": "Protocolo / modo",
    "glob.test": "Prueba",
    "glob.file": "Archivo",
    "glob.clients": "Clientes",
    "glob.runs": "Ejecuciones",
    "glob.success": "Exitosas",
    "glob.per_client": "Tasa mediana por cliente (MB/s)",
    "glob.aggregate": "Tasa agregada (MB/s)",
    "glob.time": "Tiempo medio del cliente (ms)",
    "glob.loss": "Pérdida (%)",
    "glob.resent": "Reenviados (%)",
    "glob.vs_sha": "Por cliente / SHA-256",
    "topic.success": "Éxito",
    "topic.clients": "Número de clientes",
    "topic.size": "Tamaño del archivo",
    "topic.protocols": "Protocolos",
    "topic.udp_loss": "Pérdida en UDP",
    "topic.baseline": "Referencia",
    "metric.mean_time": "tiempo medio del cliente",
    "metric.per_client": "tasa mediana por cliente",
    "metric.aggregate": "tasa agregada",
    "cmp.all_verified": "Las {total} conexiones de {runs} ejecución(es) fueron verificadas.",
    "cmp.some_failed": "{bad} de {total} conexiones no fueron verificadas: {items}.",
    "cmp.bad_item": "{label} ({bad} de {expected})",
    "cmp.clients_rate": "{proto}, {size}: la tasa mediana por cliente {trend} de {a} MB/s con {na} a {b} MB/s con "
                        "{nb} ({ratio}",
    "cmp.clients_seq": "; {values} MB/s para {counts} clientes",
    "cmp.clients_aggregate": "); la tasa agregada {trend} de {a} MB/s con {na} a {b} MB/s con {nb} ({ratio}",
    "cmp.clients_time": "); el tiempo medio del cliente {trend} de {a} ms a {b} ms ({ratio}",
    "cmp.size": "{proto}, {n}: {big} frente a {small} (archivo {ratio}): {parts}.",
    "cmp.proto_item": "{proto} {rate} MB/s ({ratio} de {ref})",
    "cmp.loss": "{proto}, {size}: pérdida media {values}% para {counts} clientes.",
    "cmp.baseline": "SHA-256 en este Python corre a {rate} MB/s; la tasa mediana por cliente va de {worst} de ese "
                    "valor ({worst_label}) a {best} ({best_label}).",
    "charts.heading": "Gráficas",
    "chart.per_client": "Tasa mediana por cliente según clientes, archivo de {size}",
    "chart.aggregate": "Tasa agregada según clientes, archivo de {size}",
    "chart.per_client_axis": "Tasa por cliente",
    "chart.aggregate_axis": "Tasa agregada",
    "chart.clients": "Clientes",
    "chart.desc_medians": "por protocolo; medianas de las ejecuciones",
    "chart.spread": "Dispersión del tiempo de transferencia por cliente, archivo de {size}",
    "chart.time_axis": "Tiempo de transferencia del cliente",
    "chart.desc_spread": "mínimo, mediana y máximo de los tiempos de los clientes en todas las ejecuciones",
    "chart.loss": "Pérdida de datagramas UDP según clientes",
    "chart.loss_axis": "Pérdida media",
    "chart.proto_aggregate": "Tasa agregada por protocolo",
    "chart.proto_per_client": "Tasa mediana por cliente por protocolo",
    "chart.file_clients": "Archivo x clientes",
    # informe: TCP frente a UDP
    "cons.heading": "TCP frente a UDP: ¿son consistentes los resultados?",
    "cons.missing": "Los registros tienen un solo protocolo, así que no se pueden comparar TCP y UDP.",
    "cons.no_pairs": "Ninguna prueba UDP tiene una prueba TCP con el mismo archivo y número de clientes para "
                     "compararla.",
    "cons.speed": "{proto} frente a TCP en {n} prueba(s) equivalentes: más rápido en {faster}, más lento en "
                  "{slower}; tasa agregada entre {lo} y {hi} de la de TCP (mediana {median}).",
    "cons.tcp_ok": "TCP entregó todos los archivos completos, como corresponde a un flujo confiable.",
    "cons.tcp_failed": "Algunas transferencias TCP fallaron: vea las pruebas anteriores; TCP no pierde datos, así "
                       "que una falla ahí apunta a un programa detenido, a un tiempo de espera o al disco.",
    "cons.raw_ok": "{proto} entregó todos los archivos en estas pruebas (pérdida media máxima {max_loss}%): la tasa "
                   "de envío estuvo dentro de lo que absorben los receptores.",
    "cons.raw_failed": "{proto} perdió datos (pérdida media máxima {max_loss}%): es lo esperado de UDP sin más, que no "
                       "tiene retransmisión ni control de flujo; el análisis de cada prueba da la tasa que habría "
                       "entregado todo.",
    "cons.reliable_ok": "{proto} entregó todos los archivos completos, igual que TCP: su recuperación compensó los "
                        "datagramas que UDP perdió.",
    "cons.reliable_failed": "{proto} no entregó todos los archivos (pérdida media máxima {max_loss}%): vea las "
                            "pruebas anteriores.",
    "cons.trend_same": "Ambos protocolos reaccionan igual a más clientes: la tasa por cliente baja porque comparten "
                       "la máquina.",
    "cons.trend_differs": "Los protocolos reaccionan distinto a más clientes: vea las gráficas anteriores.",
    "cons.verdict_yes": "Sí: los resultados son consistentes. TCP y UDP confiable entregan los mismos archivos "
                        "completos; las tasas difieren por cómo cada protocolo regula el envío y recupera, y UDP sin "
                        "recuperación cambia integridad por velocidad.",
    "cons.verdict_partly": "Solo en parte: hay que explicar las fallas indicadas antes de comparar las tasas.",
    # informe: método, intentos, extras
    "method.heading": "Método",
    "method.times": "Los tiempos siguen las definiciones del laboratorio: servidor TCP, del primer byte enviado a la "
                    "recepción de DONE; cliente TCP, del primer byte recibido al envío de DONE; servidor UDP, del "
                    "primer al último datagrama enviado; cliente UDP, del primer al último datagrama recibido.",
    "method.aggregate": "Tasa agregada = bytes totales / (último byte de cualquier cliente - primer byte de "
                        "cualquier cliente).",
    "method.medians": "Cuando una prueba se ejecutó más de una vez, las cifras globales son medianas de sus "
                      "ejecuciones; se listan todas.",
    "method.wire": "Los bytes enviados por el servidor cuentan lo que salió a la red: en UDP confiable incluyen los "
                   "datagramas reenviados.",
    "attempts.heading": "Intentos que no llegaron a empezar",
    "attempts.intro": "{n} intento(s) de conexión no empezaron ninguna transferencia (conexión rechazada, servidor "
                      "ocupado, sin respuesta). No son pruebas y no se cuentan arriba.",
    "attempts.when": "Cuándo",
    "attempts.reason": "Motivo",
    "attempts.log": "Registro",
    "base.heading": "Referencia",
    "base.item": "Elemento",
    "base.sha256": "Velocidad de SHA-256 en este Python (hashlib, archivo en memoria)",
    "base.file": "Archivo usado",
    "base.file_size": "Tamaño del archivo",
    "base.repeats": "Repeticiones",
    "base.samples": "Cada medición",
    "base.block": "Tamaño de bloque (bytes)",
    "notes.heading": "Notas",
    "problems.heading": "Problemas en los registros",
    "problems.more": "... y {n} más",
    "pdf.hint": "sin PDF: instale chromium (o Chrome) para obtener report.pdf, o abra {html} en un navegador e "
                "imprímalo a PDF",
    # tables that benchmark.py and capture summaries pass in, by their English names
    "extra.Benchmark runs": "Ejecuciones del benchmark",
    "extra.#": "#",
    "extra.test": "prueba",
    "extra.run": "ejecución",
    "extra.status": "estado",
    "extra.server exit": "salida del servidor",
    "extra.client exit": "salida del cliente",
    "extra.wall time (s)": "duración (s)",
    "extra.detail": "detalle",
    "extra.proto": "protocolo",
    "extra.client": "cliente",
    "extra.server": "servidor",
    "extra.frames c->s": "tramas c->s",
    "extra.frames s->c": "tramas s->c",
    "extra.wire bytes c->s": "bytes en la red c->s",
    "extra.wire bytes s->c": "bytes en la red s->c",
    "extra.payload bytes s->c": "bytes de datos s->c",
    "extra.TCP retransmissions": "retransmisiones TCP",
    "extra.IP fragments": "fragmentos IP",
    # benchmark.py notes in the report
    "bench.note_command": "Orden: {command} (modo {mode}) en {host} ({platform}, Python {python}, {cpus} CPU).",
    "bench.note_counts": "{n} prueba(s) en {seconds} s: {ok} exitosas, {lossy} prueba(s) UDP sin recuperación con "
                         "datagramas perdidos, {failed} fallidas.",
}
