"""Questions at the terminal: invalid answers are explained and asked again;
end of input (Ctrl-D / Ctrl-Z) raises PromptClosed for a clean exit."""

import sys

from transfer.i18n import _


class PromptClosed(Exception):
    """Input ended (EOF) while a question was waiting for an answer."""


class Prompter:
    """Asks questions on *output*, reading answers with *input_fn*."""

    def __init__(self, input_fn=None, output=None):
        self._input = input_fn or input
        self._output = output or sys.stdout

    def _ask(self, question):
        self._output.write(question)
        self._output.flush()
        try:
            return self._input().strip()
        except EOFError:
            self._output.write("\n")
            raise PromptClosed("input ended")

    def tell(self, message):
        """Print one line."""
        self._output.write(message + "\n")
        self._output.flush()

    def ask_int(self, question, default, low, high):
        """A whole number in [low, high]; empty answer means *default*."""
        while True:
            answer = self._ask(_("{} [{}-{}, default {}]: ").format(question, low, high, default))
            if answer == "":
                return default
            if answer.isascii() and answer.isdigit() and low <= int(answer) <= high:
                return int(answer)
            self.tell(_("  please type a whole number from {} to {}").format(low, high))

    def ask_text(self, question, default):
        """Free text; empty answer means *default*."""
        answer = self._ask("{} [{}]: ".format(question, default))
        return answer or default

    def ask_choice(self, question, choose, quit_words=("q", "quit", "exit", "salir")):
        """Ask until ``choose(answer)`` returns a value instead of raising
        ValueError; returns None when the person types q."""
        while True:
            answer = self._ask(question)
            if answer.lower() in quit_words:
                return None
            try:
                return choose(answer)
            except ValueError as exc:
                self.tell("  " + str(exc))

    def confirm(self, question):
        """Wait for Enter (any answer but q/n confirms); False on q or n."""
        answer = self._ask(question)
        return answer.lower() not in ("q", "n", "no", "quit", "salir", "cancelar")
