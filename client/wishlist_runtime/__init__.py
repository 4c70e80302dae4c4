"""Start-up helpers both services share: settings errors as one line each, JSON logs.

Shipped with the contract (`client/`) so that neither service imports the other's package.
"""
