# home.py
from pathlib import Path
from roost import App

def read_w1(sensor: str) -> float:
    """Read a DS18B20 1-Wire thermometer in °C."""
    text = Path(f"/sys/bus/w1/devices/{sensor}/w1_slave").read_text()
    return int(text.rsplit("t=", 1)[1]) / 1000

app = App("home")
app.meta("basement/party_room", unit="°C", label="Party room", kind="temperature")

@app.every(60)                        # sync functions run on their own thread
def basement():
    app.state["basement/party_room"] = read_w1("28-0000075565c1")

@app.daily("07:30", days="mon-fri")   # also: app.cron("..."), app.sunset(offset=-1800), app.repeat(...)
def wake():
    app.state["bedroom/blinds"] = "open"

# A command that takes `on: bool` and a boolean path of the same name make a switch on the page.
app.state["doorbell/enabled"] = True

@app.command
def switch_doorbell(on: bool) -> str:
    """Switch the doorbell chime on or off."""
    app.state["doorbell/enabled"] = on
    return "on" if on else "off"

app.run()
