import fr.aglae.connecteur.*;
import javax.xml.ws.BindingProvider;

public class Exemple {
    public static void main(String[] args) throws ConnecteurFault_Exception {
        ConnecteurPortType port = new ConnecteurService().getConnecteurPort();
        BindingProvider bp = (BindingProvider) port;
        bp.getRequestContext().put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, args[0]);
        bp.getRequestContext().put(BindingProvider.USERNAME_PROPERTY, args[1]);
        bp.getRequestContext().put(BindingProvider.PASSWORD_PROPERTY, args[2]);
        ReponseBoursier r = port.consulterBoursier("1111037734L", 2014, null, null, null, null);
        System.out.println(r.getStatut() + " " + r.getEchelon());
    }
}
